// AgentClient against the fake agent: connection and hello, every method of the contract (the
// request it sends and the result it gives back), ids and out-of-order answers, timeouts, aborts,
// the frame limit, events and subscriptions.
import { constants, createHash, publicEncrypt, verify, X509Certificate } from 'node:crypto';
import { WebSocket } from 'ws';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  AgentClient,
  AgentUnreachableError,
  ConnectionLostError,
  InvalidParamsError,
  MAX_FRAME_BYTES,
  TimeoutError,
  UnauthorizedError,
} from '../../../src/client/agent-client/index.js';
import { FAKE_TOKEN, FakeAgent } from './support/fake-agent.js';
import { doctorMaterial, settled, tick, type PersonaMaterial } from './support/fixtures.js';

let material: PersonaMaterial;
let fake: FakeAgent;
const clients: AgentClient[] = [];

beforeAll(async () => {
  material = await doctorMaterial();
});

afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  await fake?.stop();
});

afterAll(async () => {
  await fake?.stop();
});

async function desktop(options: Parameters<typeof AgentClient.connect>[0] = {}): Promise<AgentClient> {
  fake = await FakeAgent.start({ persona: material.persona, credentials: material.credentials });
  const client = await AgentClient.connect({ url: fake.url, WebSocket, token: FAKE_TOKEN, appId: 'logiciel-test', ...options });
  clients.push(client);
  return client;
}

describe('connect', () => {
  it('says agent.hello { token, appId } before anything else and knows it is a desktop caller', async () => {
    const client = await desktop({ lang: 'en' });
    expect(fake.requests[0]).toMatchObject({ method: 'agent.hello', params: { token: FAKE_TOKEN, appId: 'logiciel-test', lang: 'en' } });
    expect(client.caller).toBe('desktop');
    expect(client.state).toBe('open');
    expect((await client.info()).caller).toBe('desktop');
  });

  it('says no hello when given neither token, appId nor lang', async () => {
    fake = await FakeAgent.start({ persona: material.persona, credentials: material.credentials });
    const client = await AgentClient.connect({ url: fake.url, WebSocket });
    clients.push(client);
    expect(fake.requests).toEqual([]);
    expect((await client.info()).caller).toBe('local');
    expect(fake.calls('agent.info')[0]?.params).toBeUndefined();
  });

  it('rejects with UnauthorizedError when the agent refuses the token, and closes', async () => {
    fake = await FakeAgent.start({ persona: material.persona, credentials: material.credentials });
    const failure = AgentClient.connect({ url: fake.url, WebSocket, token: 'not-the-token', appId: 'x' });
    await expect(failure).rejects.toBeInstanceOf(UnauthorizedError);
    await vi.waitFor(() => expect(fake.connectionCount).toBe(0));
  });

  it('rejects with AgentUnreachableError when nothing listens', async () => {
    fake = await FakeAgent.start({ persona: material.persona, credentials: material.credentials });
    const url = fake.url;
    await fake.stop();
    const error = await AgentClient.connect({ url, WebSocket }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AgentUnreachableError);
    expect((error as AgentUnreachableError).code).toBe('AGENT_UNREACHABLE');
    expect((error as AgentUnreachableError).rpcCode).toBeUndefined();
  });

  it('needs a WebSocket class where there is no global one (Node 20)', async () => {
    expect((globalThis as { WebSocket?: unknown }).WebSocket).toBeUndefined();
    await expect(AgentClient.connect({ url: 'ws://127.0.0.1:1/v1' })).rejects.toThrow(/ws/);
  });

  it('defaults to ws://127.0.0.1:24820/v1', async () => {
    const urls: string[] = [];
    class Recording extends WebSocket {
      constructor(url: string) {
        urls.push(url);
        super('ws://127.0.0.1:1/v1');
      }
    }
    await AgentClient.connect({ WebSocket: Recording, connectTimeoutMs: 2000 }).catch(() => undefined);
    expect(urls).toEqual(['ws://127.0.0.1:24820/v1']);
  });
});

describe('methods', () => {
  it('agent.info, agent.hello, agent.pair, agent.subscribe, readers.list', async () => {
    const client = await desktop();
    expect(await client.info()).toEqual({ version: '0.1.0-fake', protocol: 1, pcsc: 'ok', caller: 'desktop' });
    expect(await client.hello({ lang: 'en' })).toEqual({ caller: 'desktop' });
    expect(fake.calls('agent.hello').at(-1)?.params).toEqual({ token: FAKE_TOKEN, appId: 'logiciel-test', lang: 'en' });
    const pairing = await client.pair(['cps.read', 'cps.sign']);
    expect(pairing.code).toMatch(/^\d{6}$/);
    expect(fake.calls('agent.pair')[0]?.params).toEqual({ scopes: ['cps.read', 'cps.sign'] });
    expect(await client.subscribe()).toEqual({ ok: true });
    expect(fake.calls('agent.subscribe')[0]?.params).toEqual({});
    expect(await client.readers()).toEqual(fake.readers);
    expect(fake.calls('readers.list')[0]?.params).toBeUndefined();
  });

  it('cps.getIdentity, getCertificates, getActivities, pinStatus (reader passed through)', async () => {
    const client = await desktop();
    const { persona, credentials } = material;
    const identity = await client.cps.getIdentity({ reader: 'Lecteur CPS 0' });
    expect(identity).toMatchObject({ family: 'CPS3', nationalId: persona.rpps, idType: 'RPPS', surname: persona.surname, givenName: persona.givenName });
    expect(fake.calls('cps.getIdentity')[0]?.params).toEqual({ reader: 'Lecteur CPS 0' });
    const certificates = await client.cps.getCertificates();
    expect(fake.calls('cps.getCertificates')[0]?.params).toEqual({});
    expect(Buffer.from(certificates.signature, 'base64').equals(Buffer.from(credentials.signature.certificateDer))).toBe(true);
    expect(await client.cps.getActivities({ pin: '1234' })).toEqual([{ index: 1, ...persona.activities[0] }]);
    expect(fake.calls('cps.getActivities')[0]?.params).toEqual({ pin: '1234' });
    expect(await client.cps.pinStatus()).toEqual({ triesRemaining: 3, maxTries: 3, blocked: false, verified: false });
  });

  it('cps.verifyPin, changePin, unblockPin, logout', async () => {
    const client = await desktop();
    expect(await client.cps.verifyPin({ method: 'value', pin: '1234' })).toEqual({ verified: true });
    expect(fake.calls('cps.verifyPin')[0]?.params).toEqual({ method: 'value', pin: '1234' });
    expect((await client.cps.pinStatus()).verified).toBe(true);
    expect(await client.cps.changePin({ method: 'value', pin: '1234', newPin: '4321' })).toEqual({ ok: true });
    expect(fake.calls('cps.changePin')[0]?.params).toEqual({ method: 'value', pin: '1234', newPin: '4321' });
    expect(await client.cps.unblockPin({ method: 'value', puk: '12345678', newPin: '1234' })).toEqual({ ok: true });
    expect(fake.calls('cps.unblockPin')[0]?.params).toEqual({ method: 'value', puk: '12345678', newPin: '1234' });
    expect(await client.cps.logout()).toEqual({ ok: true });
    expect((await client.cps.pinStatus()).verified).toBe(false);
  });

  it('cps.authenticate: a token bound to app:<appId> over the exact challenge', async () => {
    const client = await desktop();
    const challenge = Buffer.alloc(32, 7).toString('base64');
    const token = await client.cps.authenticate({ challenge });
    expect(fake.calls('cps.authenticate')[0]?.params).toEqual({ challenge });
    expect(token).toMatchObject({ format: 'cardbridge-auth:1', algorithm: 'RS256', origin: 'app:logiciel-test', appVersion: '0.1.0-fake' });
    const data = Buffer.concat([createHash('sha256').update('app:logiciel-test').digest(), createHash('sha256').update(challenge).digest()]);
    const certificate = new X509Certificate(Buffer.from(token.unverifiedCertificate, 'base64'));
    expect(verify('sha256', data, certificate.publicKey, Buffer.from(token.signature, 'base64'))).toBe(true);
  });

  it('cps.sign: bytes are sent as base64 and the signature verifies with the signature certificate', async () => {
    const client = await desktop();
    const hash = createHash('sha256').update('compte rendu').digest();
    const signed = await client.cps.sign({ hash: new Uint8Array(hash), hashAlgorithm: 'SHA-256' });
    expect(fake.calls('cps.sign')[0]?.params).toEqual({ hash: hash.toString('base64'), hashAlgorithm: 'SHA-256' });
    expect(signed.algorithm).toBe('RS256');
    const certificate = new X509Certificate(Buffer.from(signed.certificate, 'base64'));
    expect(verify('sha256', Buffer.from('compte rendu'), certificate.publicKey, Buffer.from(signed.signature, 'base64'))).toBe(true);
    await client.cps.sign({ hash: hash.toString('base64'), hashAlgorithm: 'SHA-256', padding: 'PKCS1' });
    expect(fake.calls('cps.sign')[1]?.params).toEqual({ hash: hash.toString('base64'), hashAlgorithm: 'SHA-256', padding: 'PKCS1' });
  });

  it('cps.decrypt: bytes are sent as base64, the plaintext comes back', async () => {
    const client = await desktop();
    const certificate = new X509Certificate(Buffer.from(material.credentials.authentication.certificateDer));
    const key = Buffer.alloc(32, 0x5a);
    const ciphertext = publicEncrypt({ key: certificate.publicKey, padding: constants.RSA_PKCS1_PADDING }, key);
    const { plaintext } = await client.cps.decrypt({ ciphertext: new Uint8Array(ciphertext) });
    expect(fake.calls('cps.decrypt')[0]?.params).toEqual({ ciphertext: ciphertext.toString('base64') });
    expect(Buffer.from(plaintext, 'base64').equals(key)).toBe(true);
  });

  it('vitale.read and any method by name', async () => {
    const client = await desktop();
    const card = await client.vitale.read({ reader: 'Lecteur Vitale 1' });
    expect(fake.calls('vitale.read')[0]?.params).toEqual({ reader: 'Lecteur Vitale 1' });
    expect(card.beneficiaries[0]).toMatchObject({ nir: '180057511234567', birthDate: '1980-05-12', insC: null });
    fake.handlers.set('agent.future', (params) => ({ echo: params }));
    expect(await client.call('agent.future', { a: 1 })).toEqual({ echo: { a: 1 } });
  });

  it('drops undefined members instead of sending them', async () => {
    const client = await desktop();
    await client.cps.getIdentity({ reader: undefined });
    expect(JSON.stringify(fake.calls('cps.getIdentity')[0]?.params)).toBe('{}');
  });
});

describe('requests and answers', () => {
  it('matches answers to requests by id when they come out of order', async () => {
    const client = await desktop();
    const identityHold = fake.hold('cps.getIdentity');
    const statusHold = fake.hold('cps.pinStatus');
    const identity = client.cps.getIdentity();
    const status = client.cps.pinStatus();
    const identityState = settled(identity);
    // readers.list is answered while the two earlier calls wait
    expect((await client.readers()).length).toBe(2);
    expect(identityState.done).toBe(false);
    statusHold.release();
    expect(await status).toMatchObject({ maxTries: 3 });
    expect(identityState.done).toBe(false);
    identityHold.release();
    expect(await identity).toMatchObject({ surname: 'MARTIN' });
    const ids = fake.requests.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('fails a call after its timeout with TimeoutError (source client) and ignores the late answer', async () => {
    const client = await desktop();
    const hold = fake.hold('cps.getIdentity');
    const error = await client.cps.getIdentity({}, { timeoutMs: 80 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as TimeoutError).data).toMatchObject({ code: 'TIMEOUT', source: 'client', method: 'cps.getIdentity', timeoutMs: 80 });
    hold.release();
    await tick(50);
    expect(await client.cps.pinStatus()).toMatchObject({ maxTries: 3 });
    expect(client.state).toBe('open');
  });

  it('applies the client-wide timeout, and the longer PIN timeout to calls that may wait for the PIN', async () => {
    const client = await desktop({ timeoutMs: 60, pinTimeoutMs: 400 });
    fake.hold('cps.pinStatus');
    const signHold = fake.hold('cps.sign');
    await expect(client.cps.pinStatus()).rejects.toBeInstanceOf(TimeoutError);
    const sign = client.cps.sign({ hash: Buffer.alloc(32).toString('base64'), hashAlgorithm: 'SHA-256' });
    const state = settled(sign);
    await tick(150);
    expect(state.done).toBe(false);
    signHold.release();
    expect((await sign).algorithm).toBe('RS256');
  });

  it('stops waiting when the signal aborts', async () => {
    const client = await desktop();
    fake.hold('cps.getIdentity');
    const controller = new AbortController();
    const call = client.cps.getIdentity({}, { signal: controller.signal });
    controller.abort(new Error('page left'));
    await expect(call).rejects.toThrow('page left');
  });

  it('refuses a request above 1 MiB before sending it, and keeps the connection', async () => {
    const client = await desktop();
    const error = await client.call('cps.sign', { hash: 'A'.repeat(MAX_FRAME_BYTES) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidParamsError);
    expect(fake.calls('cps.sign')).toEqual([]);
    expect(client.state).toBe('open');
    expect((await client.info()).protocol).toBe(1);
  });

  it('ignores frames that are not JSON-RPC for it (garbage, unknown ids, null ids)', async () => {
    const client = await desktop();
    fake.sendRaw('not json');
    fake.sendRaw(JSON.stringify({ jsonrpc: '2.0', id: 9999, result: 'stray' }));
    fake.sendRaw(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'parse error' } }));
    fake.sendRaw(JSON.stringify([1, 2]));
    expect((await client.info()).protocol).toBe(1);
  });

  it('fails every call after close() with ConnectionLostError', async () => {
    const client = await desktop();
    fake.hold('cps.getIdentity');
    const pending = client.cps.getIdentity();
    await client.close();
    await expect(pending).rejects.toBeInstanceOf(ConnectionLostError);
    await expect(client.info()).rejects.toBeInstanceOf(ConnectionLostError);
    expect(client.state).toBe('closed');
  });
});

describe('events', () => {
  it('delivers the subscribed events with their payloads, and only those', async () => {
    const client = await desktop();
    const removed: unknown[] = [];
    const inserted: unknown[] = [];
    client.on('card.removed', (e) => removed.push(e));
    client.on('card.inserted', (e) => inserted.push(e));
    await client.subscribe(['card.removed']);
    expect(fake.calls('agent.subscribe')[0]?.params).toEqual({ events: ['card.removed'] });
    fake.emit('card.inserted', { reader: 'Lecteur CPS 0', family: 'CPS3', atr: '3B' });
    fake.emit('card.removed', { reader: 'Lecteur CPS 0' });
    await vi.waitFor(() => expect(removed).toEqual([{ reader: 'Lecteur CPS 0' }]));
    expect(inserted).toEqual([]);
  });

  it('adds subscriptions up: the agent always gets the union', async () => {
    const client = await desktop();
    await client.subscribe(['card.removed']);
    await client.subscribe(['readers.changed', 'pcsc.status']);
    expect(fake.calls('agent.subscribe')[1]?.params).toEqual({ events: ['card.removed', 'readers.changed', 'pcsc.status'] });
    expect(fake.subscriptions()).toEqual([['card.removed', 'pcsc.status', 'readers.changed']]);
    await client.subscribe();
    await client.subscribe(['card.removed']);
    expect(fake.calls('agent.subscribe')[3]?.params).toEqual({});
  });

  it('delivers readers.changed, card.inserted and pcsc.status; unsubscribes; survives a throwing listener', async () => {
    const client = await desktop();
    await client.subscribe();
    const seen: string[] = [];
    const error = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    client.on('readers.changed', () => {
      throw new Error('bug in the page');
    });
    client.on('readers.changed', (e) => seen.push(`readers:${e.readers.length}`));
    client.on('card.inserted', (e) => seen.push(`inserted:${e.family}`));
    const off = client.on('pcsc.status', (e) => seen.push(`pcsc:${e.status}`));
    fake.emit('readers.changed', { readers: fake.readers });
    fake.emit('card.inserted', { reader: 'Lecteur CPS 0', family: 'CPS4', atr: '3B' });
    fake.emit('pcsc.status', { status: 'unavailable' });
    await vi.waitFor(() => expect(seen).toEqual(['readers:2', 'inserted:CPS4', 'pcsc:unavailable']));
    off();
    fake.emit('pcsc.status', { status: 'ok' });
    await tick(30);
    expect(seen).toHaveLength(3);
    expect(error).toHaveBeenCalled();
    error.mockRestore();
    expect(client.state).toBe('open');
  });
});
