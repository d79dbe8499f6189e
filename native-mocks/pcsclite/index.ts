// Drop-in replacement for the `pcsclite` package, backed by virtual cards, for tests and demos
// without pcscd. `createMockPcsc()` gives a private simulated machine and the knobs to drive it;
// the default export is the package's factory over a shared default machine (`defaultMockPcsc`).
//
//   const mock = createMockPcsc();
//   mock.addReader('Lecteur 1', { pinpad: true });
//   mock.insertCard('Lecteur 1', card);
//   const agent = new Agent({ pcsclite: mock.pcsclite });   // or use mock.pcsc directly
import type { VirtualCard } from '../../src/simulator/virtual-card.js';
import { MockCardReader } from './card-reader.js';
import { MockPcscLite } from './pcsc-lite.js';
import { MockPcscSystem, type ApduLogEntry, type InsertCardOptions } from './system.js';
import type { PinpadEntry } from './pinpad.js';

export { CM_IOCTL_GET_FEATURE_REQUEST, SCARD, SCARD_E, pcscError, pcscErrorText, scardCtlCode } from './constants.js';
export { FEATURE_VERIFY_PIN_DIRECT, FEATURE_VERIFY_PIN_DIRECT_CODE } from './pinpad.js';
export { MockCardReader, MockPcscLite, MockPcscSystem };
export type { ConnectOptions, ReaderStatusEvent } from './card-reader.js';
export type { ApduLogEntry, InsertCardOptions, PinpadEntry };

/** The package's types under its own names. */
export type PCSCLite = MockPcscLite;
export type CardReader = MockCardReader;

export interface MockPcscOptions {
  /** pcscd running at creation; default true. */
  readonly daemonRunning?: boolean;
  /** Readers present from the start. */
  readonly readers?: readonly (string | { readonly name: string; readonly pinpad?: boolean })[];
}

export interface MockPcsc {
  /** The first `pcsclite()` instance, created on first access (so readers added before show up as 'reader' events). */
  readonly pcsc: MockPcscLite;
  /** The package's factory, bound to this machine: a new client (throws like pcsclite when pcscd is down). */
  readonly pcsclite: () => MockPcscLite;
  /** The simulated machine itself, for checks beyond the knobs below. */
  readonly system: MockPcscSystem;
  readonly daemonRunning: boolean;
  addReader(name: string, opts?: { pinpad?: boolean }): void;
  removeReader(name: string): void;
  insertCard(readerName: string, card: VirtualCard, opts?: InsertCardOptions): void;
  /** Pulls the card out; no-op when the reader is empty. */
  removeCard(readerName: string): void;
  /** pcscd gone: clients get 'error' / 'end', calls fail with "Service not available.", cards lose power. */
  stopDaemon(): void;
  /** pcscd back: new `pcsclite()` clients see the readers and cards; old clients stay dead. */
  startDaemon(): void;
  /** The next transmit on this reader fails with `code` (default SCARD_E_NOT_TRANSACTED) without reaching the card. */
  failNextTransmit(readerName: string, code?: number): void;
  /** The next `n` APDUs reach the card, then the card is pulled out (status event, "Card was removed."). */
  removeCardAfterApdus(readerName: string, n: number): void;
  /** What the user does at the next FEATURE_VERIFY_PIN_DIRECT on this pinpad reader (one use). */
  setPinpadEntry(readerName: string, entry: PinpadEntry): void;
  /** The APDUs the card of this reader answered, oldest first. */
  apduLog(readerName: string): ApduLogEntry[];
  clearApduLog(readerName: string): void;
}

export function createMockPcsc(options: MockPcscOptions = {}): MockPcsc {
  const system = new MockPcscSystem({ daemonRunning: options.daemonRunning ?? true });
  for (const r of options.readers ?? []) {
    if (typeof r === 'string') system.addReader(r);
    else system.addReader(r.name, { pinpad: r.pinpad ?? false });
  }
  const factory = (): MockPcscLite => new MockPcscLite(system);
  let first: MockPcscLite | null = null;
  return {
    get pcsc(): MockPcscLite {
      first ??= factory();
      return first;
    },
    pcsclite: factory,
    system,
    get daemonRunning(): boolean {
      return system.daemonRunning;
    },
    addReader: (name, opts) => system.addReader(name, opts),
    removeReader: (name) => system.removeReader(name),
    insertCard: (readerName, card, opts) => system.insertCard(readerName, card, opts),
    removeCard: (readerName) => system.removeCard(readerName),
    stopDaemon: () => system.stopDaemon(),
    startDaemon: () => system.startDaemon(),
    failNextTransmit: (readerName, code) => system.failNextTransmit(readerName, code),
    removeCardAfterApdus: (readerName, n) => system.removeCardAfterApdus(readerName, n),
    setPinpadEntry: (readerName, entry) => system.setPinpadEntry(readerName, entry),
    apduLog: (readerName) => system.apduLog(readerName),
    clearApduLog: (readerName) => system.clearApduLog(readerName),
  };
}

/** The machine behind the default export. */
export const defaultMockPcsc: MockPcsc = createMockPcsc();

/** Same signature as the package's `module.exports`: a new client of the default machine. */
export default function pcsclite(): MockPcscLite {
  return defaultMockPcsc.pcsclite();
}
