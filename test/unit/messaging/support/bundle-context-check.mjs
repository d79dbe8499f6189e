// Run by browser-bundle.test.ts as `node --experimental-vm-modules <this> <bundle> <input.json>`:
// evaluates the messaging browser bundle as an ES module in a new V8 context that has a page's
// globals only (no process, require, Buffer, module, global), seals a message there, opens it
// there, and prints one JSON line. The private-key operations are the host's (a card's, in real
// life): callbacks given to the context, as the agent client's cps.sign and cps.decrypt would be.
import { constants, createPrivateKey, privateDecrypt, privateEncrypt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import vm from 'node:vm';

const [bundleFile, inputFile] = process.argv.slice(2);
const input = JSON.parse(readFileSync(inputFile, 'utf8'));
const der = (b64) => Buffer.from(b64, 'base64');

/**
 * Node's WebCrypto takes only this realm's buffers (a page has one realm: the harness's problem,
 * not the bundle's): copy the context's into it on the way in, algorithm parameters (an AES IV)
 * included.
 */
function hostCrypto() {
  const tag = (value) => Object.prototype.toString.call(value);
  const own = (value) => {
    if (ArrayBuffer.isView(value)) return Uint8Array.from(new Uint8Array(value.buffer, value.byteOffset, value.byteLength));
    if (tag(value) === '[object ArrayBuffer]') return Uint8Array.from(new Uint8Array(value));
    if (tag(value) === '[object Object]') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, own(v)]));
    return value;
  };
  const subtle = {};
  for (const method of ['digest', 'importKey', 'exportKey', 'encrypt', 'decrypt', 'sign', 'verify']) {
    subtle[method] = (...args) => globalThis.crypto.subtle[method](...args.map(own));
  }
  return { subtle, getRandomValues: (array) => globalThis.crypto.getRandomValues(array) };
}

const SHA256_DIGEST_INFO = Buffer.from('3031300d060960864801650304020105000420', 'hex');
const signKey = createPrivateKey({ key: der(input.signKey), format: 'der', type: 'pkcs8' });
const decipherKey = createPrivateKey({ key: der(input.nurseKey), format: 'der', type: 'pkcs8' });

const host = {
  // what a CPS does for PSO CDS with algorithm 42: DigestInfo + PKCS#1 v1.5 type 1 + RSA
  signHash: async (hash) =>
    new Uint8Array(privateEncrypt({ key: signKey, padding: constants.RSA_PKCS1_PADDING }, Buffer.concat([SHA256_DIGEST_INFO, Buffer.from(hash)]))),
  // what a CPS does for PSO DECIPHER: RSA, then removes the PKCS#1 v1.5 type 2 padding
  // (Node 20 refuses that padding in privateDecrypt, so raw RSA and the padding by hand)
  decryptKey: async (cryptogram) => {
    const block = privateDecrypt({ key: decipherKey, padding: constants.RSA_NO_PADDING }, Buffer.from(cryptogram));
    const separator = block.indexOf(0, 2);
    if (block[0] !== 0 || block[1] !== 2 || separator < 10) throw Object.assign(new Error('bad padding'), { code: 'DECRYPT_FAILED' });
    return new Uint8Array(block.subarray(separator + 1));
  },
};

const result = {};
try {
  const context = vm.createContext({ console, crypto: hostCrypto(), TextEncoder, TextDecoder, atob, btoa, setTimeout, clearTimeout, queueMicrotask, host, input });
  vm.runInContext('globalThis.window = globalThis; globalThis.self = globalThis;', context);
  const module = new vm.SourceTextModule(readFileSync(bundleFile, 'utf8'), { context, identifier: 'messaging.js' });
  await module.link((specifier) => {
    throw new Error(`the bundle imports ${specifier}`);
  });
  await module.evaluate();
  context.api = module.namespace;
  result.absent = vm.runInContext('[typeof process, typeof require, typeof Buffer, typeof module, typeof global].join(",")', context);
  result.exports = Object.keys(module.namespace).sort();
  result.inContext = await vm.runInContext(
    `(async () => {
      const bytes = (b64) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const message = {
        from: input.from,
        to: [input.to],
        subject: 'Résultats — bundle',
        date: new Date('2025-03-04T10:15:42Z'),
        body: 'Texte du message',
        attachments: [{ filename: 'résultats.pdf', mediaType: 'application/pdf', content: new TextEncoder().encode('%PDF-1.4 test') }],
      };
      const sealed = await api.sealMessage({
        mime: message,
        signerCertificate: bytes(input.signCert),
        signHash: host.signHash,
        recipientCertificates: [bytes(input.nurseCert), bytes(input.doctorAuthCert)],
      });
      const opened = await api.openMessage({ envelopedDer: sealed, recipientCertificate: bytes(input.nurseCert), decryptKey: host.decryptKey });
      let notRecipient;
      try {
        await api.openMessage({ envelopedDer: sealed, recipientCertificate: bytes(input.signCert), decryptKey: host.decryptKey });
      } catch (error) {
        notRecipient = error instanceof api.MessageError && error.code;
      }
      return {
        sealed: btoa(Array.from(sealed, (b) => String.fromCharCode(b)).join('')),
        subject: opened.mime.subject,
        attachment: new TextDecoder().decode(opened.mime.attachments[0].content),
        signer: opened.signer.nationalId,
        signatureValid: opened.signatureValid,
        recipients: api.routingMetadata(sealed).recipients.length,
        notRecipient,
      };
    })()`,
    context,
  );
} catch (error) {
  result.error = String(error?.stack ?? error);
}
console.log(JSON.stringify(result));
