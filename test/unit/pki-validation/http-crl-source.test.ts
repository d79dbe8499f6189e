// HttpCrlSource against the test PKI's publication server on loopback: the distribution points
// written in the certificates, caching until shortly before nextUpdate, background refresh, and
// never a CRL past its nextUpdate.
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPublicationServer, type PublicationServer, type PublicationSource } from '../../../src/pki/publication-server.js';
import { TestPki } from '../../../src/pki/test-pki.js';
import { CertificateValidator } from '../../../src/pki/validation/certificate-validator.js';
import { CompositeCrlSource } from '../../../src/pki/validation/composite-crl-source.js';
import { FileCrlSource } from '../../../src/pki/validation/file-crl-source.js';
import { HttpCrlSource, isFetchableCrlUrl } from '../../../src/pki/validation/http-crl-source.js';
import { DAY, doctor, freshDir, nurse } from './helpers.js';

/** A PKI whose distribution points name a publication server started on a free port first. */
async function servedPki(clock?: () => Date): Promise<{ pki: TestPki; server: PublicationServer }> {
  // The port is known once the server listens; the PKI (whose certificates carry the URL) after.
  const holder: { pki?: TestPki } = {};
  const late: PublicationSource = {
    crl: (ca) => (holder.pki as TestPki).crl(ca),
    caCertificate: (ca) => (holder.pki as TestPki).caCertificate(ca),
  };
  const server = await startPublicationServer(late, { port: 0 });
  const pki = await TestPki.open(freshDir(), { crlBaseUrl: `${server.url}/crl`, ...(clock ? { clock } : {}) });
  holder.pki = pki;
  return { pki, server };
}

function validatorOf(pki: TestPki, crls: HttpCrlSource | CompositeCrlSource, clock?: () => Date): CertificateValidator {
  return new CertificateValidator({
    trustAnchors: [pki.caCertificate('root')],
    intermediates: [pki.caCertificate('persons')],
    crls,
    ...(clock ? { clock } : {}),
  });
}

const servers: { close(): Promise<void> }[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close().catch(() => undefined)));
});

describe('HttpCrlSource on the publication server', () => {
  let pki: TestPki;
  beforeAll(async () => {
    const served = await servedPki();
    servers.push(served.server);
    pki = served.pki;
  });

  it('fetches the CRLs at the distribution points once, then validates from the caches', async () => {
    const card = await pki.issuePractitioner('doctor', doctor);
    const source = new HttpCrlSource({ fetchTimeoutMs: 2_000 });
    const validator = validatorOf(pki, source);
    expect((await validator.validate(card.authentication.certificateDer, 'authentication')).ok).toBe(true);
    expect(source.stats()).toEqual({ fetches: 2, failures: 0 }); // persons CRL (leaf), root CRL (intermediate)
    expect((await validator.validate(card.authentication.certificateDer, 'authentication')).ok).toBe(true);
    expect((await validator.validate(card.signature.certificateDer, 'signature')).ok).toBe(true);
    expect(source.stats().fetches).toBe(2);
    expect(validator.cacheStats()).toMatchObject({ hits: 1, misses: 2 });
  });

  it('sees a revocation published before the fetch', async () => {
    const card = await pki.issuePractitioner('nurse', nurse);
    await pki.revoke(card.authentication.serialHex);
    const validator = validatorOf(pki, new HttpCrlSource({ fetchTimeoutMs: 2_000 }));
    const result = await validator.validate(card.authentication.certificateDer, 'authentication');
    expect(result.ok ? 'ok' : result.code).toBe('CERTIFICATE_REVOKED');
  });

  it('gives nothing without a subject certificate (no distribution point to follow)', async () => {
    const source = new HttpCrlSource({ fetchTimeoutMs: 2_000 });
    expect(await source.currentCrl(pki.caCertificate('persons'))).toBeUndefined();
    expect(source.stats().fetches).toBe(0);
  });
});

describe('HttpCrlSource refresh and expiry', () => {
  it('refreshes in the background before nextUpdate and never serves a CRL past it', async () => {
    const t0 = Date.now();
    let now = t0;
    const clock = () => new Date(now);
    const { pki, server } = await servedPki(clock);
    servers.push(server);
    const card = await pki.issuePractitioner('doctor', doctor);
    const source = new HttpCrlSource({ fetchTimeoutMs: 2_000, refreshMarginMs: 2 * DAY, failureBackoffMs: 0, clock });
    const validator = validatorOf(pki, source, clock);
    const persons = pki.caCertificate('persons');
    const leaf = card.authentication.certificateDer;

    const first = await source.currentCrl(persons, leaf);
    expect(first).toBeDefined();
    expect(source.stats().fetches).toBe(1);

    now = t0 + 3 * DAY; // well before nextUpdate - margin: served from the cache
    expect(await source.currentCrl(persons, leaf)).toBe(first);
    expect(source.stats().fetches).toBe(1);

    now = t0 + 6.5 * DAY; // within the margin: the cached one now, a background fetch meanwhile
    expect(await source.currentCrl(persons, leaf)).toBe(first);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(source.stats().fetches).toBe(2);

    now = t0 + 8 * DAY; // the first CRL is stale; the refreshed one (issued at 6.5 days) is not
    const refreshed = await source.currentCrl(persons, leaf);
    expect(refreshed).toBeDefined();
    expect(refreshed).not.toBe(first);
    expect(source.stats().fetches).toBe(2);
    expect((await validator.validate(leaf, 'authentication')).ok).toBe(true);

    await server.close();
    now = t0 + 14 * DAY; // refreshed CRL past its nextUpdate and the server gone: nothing
    expect(await source.currentCrl(persons, leaf)).toBeUndefined();
    validator.clearCache();
    const result = await validator.validate(leaf, 'authentication');
    expect(result.ok ? 'ok' : result.code).toBe('REVOCATION_UNKNOWN');
  });

  it('gives up on a server that does not answer within fetchTimeoutMs', async () => {
    const hanging: Server = createServer(() => {
      /* never answers */
    });
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
    const port = (hanging.address() as AddressInfo).port;
    servers.push({ close: () => new Promise<void>((resolve) => { hanging.closeAllConnections(); hanging.close(() => resolve()); }) });
    const pki = await TestPki.open(freshDir(), { crlBaseUrl: `http://127.0.0.1:${port}/crl` });
    const card = await pki.issuePractitioner('doctor', doctor);
    const source = new HttpCrlSource({ fetchTimeoutMs: 200 });
    const started = Date.now();
    expect(await source.currentCrl(pki.caCertificate('persons'), card.authentication.certificateDer)).toBeUndefined();
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(source.stats()).toEqual({ fetches: 1, failures: 1 });
  });

  it('refuses an HTTP error, an over-size body, a redirect target and a body that is not a CRL', async () => {
    const pki = await TestPki.open(freshDir());
    const card = await pki.issuePractitioner('doctor', doctor);
    const issuer = pki.caCertificate('persons');
    const leaf = card.authentication.certificateDer;
    const goodCrl = await pki.crl('persons');
    const answers: (() => Response)[] = [
      () => new Response('nope', { status: 404 }),
      () => new Response(new Uint8Array(2048), { status: 200 }),
      () => new Response(Buffer.from('not a crl'), { status: 200 }),
      () => new Response(Buffer.from(goodCrl), { status: 200, headers: { 'content-length': String(1 << 30) } }),
    ];
    for (const answer of answers) {
      const source = new HttpCrlSource({ fetchTimeoutMs: 1_000, maxCrlBytes: 1024 + goodCrl.byteLength, fetch: async () => answer() });
      expect(await source.currentCrl(issuer, leaf)).toBeUndefined();
      expect(source.stats().failures).toBe(1);
    }
    const redirects: RequestInit[] = [];
    const source = new HttpCrlSource({
      fetchTimeoutMs: 1_000,
      fetch: async (_url, init) => {
        redirects.push(init ?? {});
        return new Response(Buffer.from(goodCrl), { status: 200 });
      },
    });
    expect(await source.currentCrl(issuer, leaf)).toBeDefined();
    expect(redirects[0]?.redirect).toBe('error');
  });

  it('backs off after a failure instead of hammering the server', async () => {
    const pki = await TestPki.open(freshDir());
    const card = await pki.issuePractitioner('doctor', doctor);
    let calls = 0;
    const source = new HttpCrlSource({
      fetchTimeoutMs: 1_000,
      failureBackoffMs: 60_000,
      fetch: async () => {
        calls++;
        return new Response('down', { status: 503 });
      },
    });
    for (let i = 0; i < 5; i++) await source.currentCrl(pki.caCertificate('persons'), card.authentication.certificateDer);
    expect(calls).toBe(1);
  });

  it('follows http URLs only', () => {
    expect(isFetchableCrlUrl('http://127.0.0.1:35990/crl/x.crl')).toBe(true);
    expect(isFetchableCrlUrl('https://crl.example/x.crl')).toBe(false);
    expect(isFetchableCrlUrl('ldap://annuaire.example/cn=x')).toBe(false);
    expect(isFetchableCrlUrl('file:///etc/passwd')).toBe(false);
    expect(isFetchableCrlUrl('http://user:pw@host/x.crl')).toBe(false);
    expect(isFetchableCrlUrl('not a url')).toBe(false);
  });
});

describe('CompositeCrlSource', () => {
  it('takes the newest verified current CRL of its sources and survives one that throws', async () => {
    const { pki, server } = await servedPki();
    servers.push(server);
    const card = await pki.issuePractitioner('doctor', doctor);
    // a snapshot of the CRLs before the revocation: still current, but superseded
    const snapshot = join(freshDir(), 'crls.pem');
    writeFileSync(snapshot, (await pki.crlPem('root')) + (await pki.crlPem('persons')));
    await pki.revoke(card.authentication.serialHex);
    const files = new FileCrlSource([snapshot]);
    const http = new HttpCrlSource({ fetchTimeoutMs: 2_000 });
    const broken = { currentCrl: async (): Promise<Uint8Array | undefined> => { throw new Error('boom'); } };
    const junk = { currentCrl: async () => new Uint8Array([0x30, 0x00]) };
    // the snapshot alone says "not revoked"
    expect((await validatorOf(pki, new CompositeCrlSource([files])).validate(card.authentication.certificateDer, 'authentication')).ok).toBe(true);
    for (const order of [[broken, junk, files, http], [http, files, junk, broken]]) {
      const result = await validatorOf(pki, new CompositeCrlSource(order)).validate(card.authentication.certificateDer, 'authentication');
      expect(result.ok ? 'ok' : result.code).toBe('CERTIFICATE_REVOKED');
    }
    expect(await new CompositeCrlSource([broken, junk]).currentCrl(pki.caCertificate('persons'))).toBeUndefined();
    expect(() => new CompositeCrlSource([])).toThrow();
  });
});
