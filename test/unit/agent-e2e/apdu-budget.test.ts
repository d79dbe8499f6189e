// quality.md P2 through the whole agent (startAgent's wiring, audit log included): the audit line
// of a card operation names the card serial, and learning it may cost what reading the serial
// costs (EF SN.ICC: SELECT + READ BINARY, 3 APDUs with the 6Cxx retry), not a read of both
// certificates. Measured against the same first call on a card service without an audit sink, on
// the same kind of card. (bench:agent P2: 35 APDUs for the first cps.verifyPin of an insertion,
// as many as OpenSC's pkcs15-tool --verify-pin.)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMockPcsc } from '../../../native-mocks/pcsclite/index.js';
import type { CallerContext, Scope } from '../../../src/agent/caller.js';
import { SCOPES } from '../../../src/agent/caller.js';
import { createCardService } from '../../../src/agent/cards/index.js';
import { startE2eAgent, type E2eAgent } from './harness.js';

const READER = 'Lecteur CPS';
const SERIAL_READ = 3;

let e2e: E2eAgent;
let scratch: string;

beforeAll(async () => {
  e2e = await startE2eAgent({ readers: { [READER]: null } });
  scratch = mkdtempSync(join(tmpdir(), 'cb-apdu-budget-'));
});

afterAll(async () => {
  await e2e?.close();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

function desktopCaller(): CallerContext {
  return { connectionId: 'budget', kind: 'desktop', origin: 'app:budget', scopes: new Set<Scope>(SCOPES), lang: 'fr', signal: new AbortController().signal, notify: () => undefined };
}

/** APDUs of the first call of a fresh insertion on a card service with no audit sink. */
async function withoutAudit(method: string, params: Record<string, unknown>): Promise<number> {
  const mock = createMockPcsc({ readers: [READER] });
  mock.insertCard(READER, await e2e.card('cps:medecin'));
  const service = createCardService({ pcsc: mock.pcsclite, allowVirtualReaders: false, agentBaseUrl: 'http://127.0.0.1:1', env: {} });
  try {
    await service.whenReady();
    await service.call(method, params, desktopCaller());
    return mock.apduLog(READER).length;
  } finally {
    await service.close();
  }
}

/** APDUs of the first call of a fresh insertion through the running agent (audited). */
async function throughAgent(call: (d: Awaited<ReturnType<E2eAgent['desktop']>>) => Promise<unknown>): Promise<number> {
  const d = await e2e.desktop('budget');
  e2e.mock.insertCard(READER, await e2e.card('cps:medecin'));
  try {
    await new Promise((r) => setTimeout(r, 50));
    for (let i = 0; i < 100 && !(await d.readers()).some((r) => r.name === READER && r.card); i++) await new Promise((r) => setTimeout(r, 20));
    e2e.mock.clearApduLog(READER);
    await call(d);
    return e2e.mock.apduLog(READER).length;
  } finally {
    await d.cps.logout({ reader: READER }).catch(() => undefined);
    e2e.mock.removeCard(READER);
    for (let i = 0; i < 100 && (await d.readers()).some((r) => r.name === READER && r.card); i++) await new Promise((r) => setTimeout(r, 20));
    await d.close();
  }
}

describe('the audit line costs at most the card serial (P2, first call of an insertion)', () => {
  it('cps.verifyPin by value', async () => {
    const bare = await withoutAudit('cps.verifyPin', { reader: READER, method: 'value', pin: '1234' });
    const audited = await throughAgent((d) => d.cps.verifyPin({ reader: READER, method: 'value', pin: '1234' }));
    expect(audited).toBeLessThanOrEqual(bare + SERIAL_READ);
  });

  it('cps.sign with the PIN', async () => {
    const hash = Buffer.alloc(32, 7).toString('base64');
    const bare = await withoutAudit('cps.sign', { reader: READER, hash, hashAlgorithm: 'SHA-256', pin: '1234' });
    const audited = await throughAgent((d) => d.cps.sign({ reader: READER, hash, hashAlgorithm: 'SHA-256', pin: '1234' }));
    expect(audited).toBeLessThanOrEqual(bare + SERIAL_READ);
  });
});
