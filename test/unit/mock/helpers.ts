// Promise wrappers over the callback API of `pcsclite` (and so of the mock), for the mock's tests.
import type { EventEmitter } from 'node:events';
import type { ConnectOptions, MockCardReader, MockPcscLite } from '../../../native-mocks/pcsclite/index.js';

export function once<T = unknown>(emitter: EventEmitter, event: string, timeoutMs = 2000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(event, handler);
      reject(new Error(`no '${event}' event within ${timeoutMs} ms`));
    }, timeoutMs);
    const handler = (value: T): void => {
      clearTimeout(timer);
      resolve(value);
    };
    emitter.once(event, handler);
  });
}

/** Resolves with the named reader when `pcsc` reports it. */
export function waitReader(pcsc: MockPcscLite, name: string, timeoutMs = 2000): Promise<MockCardReader> {
  const known = pcsc.readers[name];
  if (known) return Promise.resolve(known);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      pcsc.off('reader', handler);
      reject(new Error(`reader ${name} not reported within ${timeoutMs} ms`));
    }, timeoutMs);
    const handler = (r: MockCardReader): void => {
      if (r.name !== name) return;
      clearTimeout(timer);
      pcsc.off('reader', handler);
      resolve(r);
    };
    pcsc.on('reader', handler);
  });
}

/** Collects every 'status' of a reader from now on. */
export function statusRecorder(reader: MockCardReader): { state: number; atr?: Buffer }[] {
  const seen: { state: number; atr?: Buffer }[] = [];
  reader.on('status', (s: { state: number; atr?: Buffer }) => seen.push(s));
  return seen;
}

export async function until(check: () => boolean, timeoutMs = 2000): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeoutMs) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 2));
  }
}

export function connect(reader: MockCardReader, options?: ConnectOptions): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    reader.connect(options, (err, protocol) => (err ? reject(err) : resolve(protocol)));
  });
}

export function disconnect(reader: MockCardReader, disposition?: number): Promise<void> {
  return new Promise((resolve, reject) => {
    reader.disconnect(disposition, (err) => (err ? reject(err) : resolve()));
  });
}

export function transmit(reader: MockCardReader, apdu: string | Buffer, protocol: number, resLen = 258): Promise<Buffer> {
  const data = typeof apdu === 'string' ? Buffer.from(apdu.replace(/\s+/g, ''), 'hex') : apdu;
  return new Promise((resolve, reject) => {
    reader.transmit(data, resLen, protocol, (err, response) => (err ? reject(err) : resolve(response ?? Buffer.alloc(0))));
  });
}

export function control(reader: MockCardReader, code: number, data: Buffer, resLen = 258): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    reader.control(data, code, resLen, (err, response) => (err ? reject(err) : resolve(response ?? Buffer.alloc(0))));
  });
}

export const hexOf = (b: Uint8Array): string => Buffer.from(b).toString('hex').toUpperCase();
