// PEM armour (RFC 7468) for certificates, CRLs and PKCS#8 keys.

export function toPem(label: string, der: Uint8Array): string {
  const base64 = Buffer.from(der).toString('base64');
  const lines = base64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** The DER inside the first PEM block with this label. */
export function fromPem(label: string, pem: string): Uint8Array {
  const escaped = label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const match = new RegExp(`-----BEGIN ${escaped}-----([A-Za-z0-9+/=\\s]*)-----END ${escaped}-----`).exec(pem);
  if (!match?.[1]) throw new Error(`no PEM block "${label}" found`);
  return new Uint8Array(Buffer.from(match[1].replace(/\s+/g, ''), 'base64'));
}
