import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPublicationServer, type PublicationServer } from '../../../src/pki/publication-server.js';
import { TestPki } from '../../../src/pki/test-pki.js';
import { doctor, freshDir, parseCertificate, parseCrl } from './helpers.js';

let pki: TestPki;
let server: PublicationServer;

beforeAll(async () => {
  pki = await TestPki.open(freshDir());
  server = await startPublicationServer(pki, { port: 0 });
});

afterAll(async () => {
  await server?.close();
});

const slugs = {
  root: 'test-ac-igc-sante-racine',
  persons: 'test-ac-igc-sante-fort-personnes',
  organisations: 'test-ac-igc-sante-elementaire-organisations',
} as const;

describe('PKI publication server', () => {
  it('listens on loopback and refuses any other address', async () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    await expect(startPublicationServer(pki, { host: '0.0.0.0', port: 0 })).rejects.toThrow(/loopback/);
    await expect(startPublicationServer(pki, { host: '192.168.1.10', port: 0 })).rejects.toThrow(/loopback/);
  });

  it('serves each CA CRL as application/pkix-crl and its certificate as application/pkix-cert', async () => {
    for (const ca of ['root', 'persons', 'organisations'] as const) {
      const crlResponse = await fetch(`${server.url}/crl/${slugs[ca]}.crl`);
      expect(crlResponse.status).toBe(200);
      expect(crlResponse.headers.get('content-type')).toBe('application/pkix-crl');
      const crl = new Uint8Array(await crlResponse.arrayBuffer());
      expect(Buffer.from(crl).equals(Buffer.from(await pki.crl(ca)))).toBe(true);
      expect(parseCrl(crl).issuer.isEqual(parseCertificate(pki.caCertificate(ca)).subject)).toBe(true);

      const caResponse = await fetch(`${server.url}/ca/${slugs[ca]}.cer`);
      expect(caResponse.status).toBe(200);
      expect(caResponse.headers.get('content-type')).toBe('application/pkix-cert');
      expect(Buffer.from(await caResponse.arrayBuffer()).equals(Buffer.from(pki.caCertificate(ca)))).toBe(true);
    }
  });

  it('serves the CRL at the very path written in the certificates', async () => {
    const path = new URL(pki.crlUrl('persons')).pathname;
    expect((await fetch(`${server.url}${path}`)).status).toBe(200);
  });

  it('serves the current CRL after a revocation', async () => {
    const card = await pki.issuePractitioner('cps:revoked', { ...doctor, rpps: '99900000107' });
    await pki.revoke(card.authentication.serialHex);
    const crl = parseCrl(new Uint8Array(await (await fetch(`${server.url}/crl/${slugs.persons}.crl`)).arrayBuffer()));
    expect(crl.isCertificateRevoked(parseCertificate(card.authentication.certificateDer))).toBe(true);
  });

  it('answers 404 to anything else and 405 to other methods', async () => {
    for (const path of [
      '/',
      '/crl/',
      '/crl/unknown.crl',
      `/crl/${slugs.root}.cer`,
      `/ca/${slugs.root}.crl`,
      `/crl/${slugs.root}.crl/x`,
      `/crl/../ca/${slugs.root}.cer.crl`,
      '/index.json',
      '/ca/test-ac-igc-sante-racine.key.pem',
    ]) {
      const response = await fetch(`${server.url}${path}`);
      expect(response.status, path).toBe(404);
      await response.arrayBuffer();
    }
    const post = await fetch(`${server.url}/crl/${slugs.root}.crl`, { method: 'POST', body: 'x' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    const head = await fetch(`${server.url}/crl/${slugs.root}.crl`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(Number(head.headers.get('content-length'))).toBe((await pki.crl('root')).byteLength);
  });
});
