// Shared pieces of the transport tests: a virtual CPS3 from the test PKI, an event recorder for
// the ReaderMonitor, APDUs from hex, and a poll helper.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CommandApdu } from '../../../src/iso7816/apdu.js';
import { decodeCommandApdu, fromHex } from '../../../src/iso7816/apdu.js';
import { TestPki } from '../../../src/pki/test-pki.js';
import { createPersonaCard } from '../../../src/simulator/card-factory.js';
import type { VirtualCard } from '../../../src/simulator/virtual-card.js';
import type { ReaderMonitor, ReaderMonitorEvents } from '../../../src/transport/reader-monitor.js';

export const CPS3_ATR_HEX = '3BAC00402A001225006480000310009000';
/** SELECT of the CPS3 PKCS#15 application with FCP returned (T=0: answered 61xx). */
export const SELECT_CPS_AID = '00 A4 04 04 0D E8 28 BD 08 0F 80 25 00 00 01 FF 00 10';
export const VERIFY_PIN_1234 = '00 20 00 01 08 31 32 33 34 FF FF FF FF';
/** VERIFY without data: 90 00 while the PIN is verified, 63 Cx otherwise. */
export const VERIFY_STATUS = '00 20 00 01';

export function apdu(text: string): CommandApdu {
  return decodeCommandApdu(fromHex(text));
}

export const hexOf = (b: Uint8Array): string => Buffer.from(b).toString('hex').toUpperCase();

let pkiDir: string | null = null;
let pki: Promise<TestPki> | null = null;

/** A fresh virtual CPS3 (persona cps:medecin, PIN 1234) from one test PKI per test file. */
export async function cps3Card(): Promise<VirtualCard> {
  pkiDir ??= mkdtempSync(join(tmpdir(), 'cb-transport-'));
  pki ??= TestPki.open(pkiDir);
  return createPersonaCard('cps:medecin', { pki: await pki });
}

export function removePkiDir(): void {
  if (pkiDir) rmSync(pkiDir, { recursive: true, force: true });
  pkiDir = null;
  pki = null;
}

type EventName = keyof ReaderMonitorEvents;
export interface Recorded {
  readonly event: EventName;
  readonly payload: ReaderMonitorEvents[EventName][0];
}

/** Records every event of a monitor, in order, with a way to wait for one. */
export class EventLog {
  readonly events: Recorded[] = [];
  private readonly waiters = new Set<() => void>();

  constructor(monitor: ReaderMonitor) {
    for (const event of ['readers.changed', 'card.inserted', 'card.removed', 'pcsc.status'] as const) {
      monitor.on(event, (payload: ReaderMonitorEvents[typeof event][0]) => {
        this.events.push({ event, payload });
        for (const w of this.waiters) w();
      });
    }
  }

  /** Event names (with the main field) in order, from index `from`. */
  summary(from = 0): string[] {
    return this.events.slice(from).map(({ event, payload }) => {
      if ('status' in payload) return `${event} ${payload.status}`;
      if ('readers' in payload) return `${event} [${payload.readers.map((r) => `${r.name}${r.card ? '*' : ''}`).join(', ')}]`;
      return `${event} ${payload.reader}`;
    });
  }

  /** Resolves with the index of the first event from `from` on that matches. */
  waitFor<E extends EventName>(
    event: E,
    match: (payload: ReaderMonitorEvents[E][0]) => boolean = () => true,
    options: { from?: number; timeoutMs?: number } = {},
  ): Promise<number> {
    const from = options.from ?? 0;
    const find = (): number => this.events.findIndex((r, i) => i >= from && r.event === event && match(r.payload as ReaderMonitorEvents[E][0]));
    return new Promise((resolve, reject) => {
      const found = find();
      if (found >= 0) return resolve(found);
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`no ${event} event within ${options.timeoutMs ?? 3000} ms; seen: ${this.summary().join(' | ')}`));
      }, options.timeoutMs ?? 3000);
      const check = (): void => {
        const i = find();
        if (i < 0) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(i);
      };
      this.waiters.add(check);
    });
  }
}

export async function until(check: () => boolean, timeoutMs = 3000): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeoutMs) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}
