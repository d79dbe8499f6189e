// RSAES-PKCS1-v1_5 encryption of a content-encryption key to a recipient's certificate (RFC 8017
// §7.2), with node-forge: WebCrypto offers only OAEP, and a CPS3 deciphers only v1.5
// (architecture.md). A public-key operation on 32 bytes per recipient: the pure-JS RSA is fast
// enough here. The padding's random bytes come from forge's generator, which draws on
// crypto.getRandomValues in a browser and on node:crypto in Node.
import forge from 'node-forge';

function toBinaryString(bytes: Uint8Array): string {
  let out = '';
  for (const byte of bytes) out += String.fromCharCode(byte);
  return out;
}

function fromBinaryString(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

/** The encrypted key (modulus length). `spkiDer` must hold an RSA key. */
export function encryptKeyPkcs1v15(spkiDer: Uint8Array, key: Uint8Array): Uint8Array {
  const publicKey = forge.pki.publicKeyFromAsn1(forge.asn1.fromDer(forge.util.createBuffer(toBinaryString(spkiDer)))) as forge.pki.rsa.PublicKey;
  return fromBinaryString(publicKey.encrypt(toBinaryString(key), 'RSAES-PKCS1-V1_5'));
}
