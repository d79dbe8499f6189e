// CardReader of the mock: the JavaScript layer of `pcsclite` (lib/pcsclite.js) ported line for
// line, over "native" methods (_connect, _transmit, ...) that talk to the simulated pcscd instead
// of libpcsclite. Callbacks and events arrive asynchronously, as they do from the native threads.
import { EventEmitter } from 'node:events';
import { pcscError, SCARD, type ScardConstants } from './constants.js';
import type { Handle, MockPcscSystem, Result } from './system.js';

export interface ConnectOptions {
  share_mode?: number;
  protocol?: number;
}

export interface ReaderStatusEvent {
  state: number;
  atr?: Buffer;
}

type Callback<A extends unknown[]> = (...args: A) => void;
type StatusCallback = (err: Error | undefined, state?: number, atr?: Buffer) => void;

const later = (fn: () => void): void => {
  setImmediate(fn);
};

function checkUint32(value: unknown, message: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 0xffffffff) throw new Error(message);
}

function checkBuffer(value: unknown, message: string): asserts value is Buffer {
  if (!Buffer.isBuffer(value)) throw new Error(message);
}

function checkFunction(value: unknown, message: string): asserts value is (...args: never[]) => unknown {
  if (typeof value !== 'function') throw new Error(message);
}

type ScardFields = { readonly [K in keyof ScardConstants]: number };

// The SCARD_* numbers live on the prototype (Object.assign below), as on the native class.
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging, @typescript-eslint/no-empty-object-type
export interface MockCardReader extends ScardFields {}

// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export class MockCardReader extends EventEmitter {
  readonly name: string;
  connected = false;
  /** Set by the client after each 'status' event (after the listeners ran, as pcsclite does). */
  state?: number;

  private handle: Handle | null = null;
  /** Generation of the PC/SC context this reader's connections use; established at first connect. */
  private contextGeneration: number | null = null;
  private statusActive = false;
  private statusGeneration = 0;
  private statusCallback: StatusCallback | null = null;
  private readonly onCard = (readerName: string): void => {
    if (readerName !== this.name || !this.statusActive) return;
    const status = this.system.status(this.name);
    const cb = this.statusCallback;
    if (!status || !cb) return;
    later(() => {
      if (this.statusActive) cb(undefined, status.state, status.atr);
    });
  };
  private readonly onReaders = (): void => {
    if (this.statusActive && !this.system.hasReader(this.name)) this.endStatus();
  };
  private readonly onDaemonStop = (generation: number): void => {
    if (!this.statusActive || generation !== this.statusGeneration) return;
    const cb = this.statusCallback;
    this.statusActive = false;
    this.unsubscribe();
    later(() => {
      cb?.(pcscError('SCardGetStatusChange', 0x80100013));
      this.emit('_end');
    });
  };

  constructor(
    private readonly system: MockPcscSystem,
    name: string,
  ) {
    super();
    this.name = name;
  }

  // ---- native layer -----------------------------------------------------------------------------

  /** Starts watching the reader: `cb(undefined, state, atr)` now and at every change. */
  get_status(cb: StatusCallback): void {
    if (this.statusActive) return;
    this.statusActive = true;
    this.statusCallback = cb;
    this.statusGeneration = this.system.generation;
    this.system.on('card', this.onCard);
    this.system.on('readers', this.onReaders);
    this.system.on('daemon-stop', this.onDaemonStop);
    const status = this.system.status(this.name);
    if (!status || !this.system.daemonRunning) {
      this.endStatus();
      return;
    }
    later(() => {
      if (this.statusActive) cb(undefined, status.state, status.atr);
    });
  }

  private unsubscribe(): void {
    this.system.off('card', this.onCard);
    this.system.off('readers', this.onReaders);
    this.system.off('daemon-stop', this.onDaemonStop);
  }

  private endStatus(): void {
    if (!this.statusActive) return;
    this.statusActive = false;
    this.unsubscribe();
    later(() => this.emit('_end'));
  }

  /** Stops watching the reader ('end' follows); connections stay as they are. */
  close(): number {
    this.endStatus();
    return 0;
  }

  private contextAlive(): number | null {
    if (this.contextGeneration === null) {
      // SCardEstablishContext on first use, as the native CardReader does.
      if (!this.system.daemonRunning) return 0x8010001d;
      this.contextGeneration = this.system.generation;
    }
    return null;
  }

  _connect(shareMode: number, protocol: number, cb: Callback<[Error | null, number?]>): void {
    checkUint32(shareMode, 'First argument must be an integer');
    checkUint32(protocol, 'Second argument must be an integer');
    checkFunction(cb, 'Third argument must be a callback function');
    const noContext = this.contextAlive();
    const result: Result<{ handle: Handle; protocol: number }> =
      noContext !== null
        ? { ok: false, code: noContext }
        : this.system.connect(this.contextGeneration ?? 0, this.name, shareMode, protocol);
    if (result.ok) this.handle = result.value.handle;
    later(() => {
      if (!result.ok) return cb(pcscError('SCardConnect', result.code));
      this.connected = true;
      cb(null, result.value.protocol);
    });
  }

  _disconnect(disposition: number, cb: Callback<[Error | null]>): void {
    checkUint32(disposition, 'First argument must be an integer');
    checkFunction(cb, 'Second argument must be a callback function');
    let result: Result<void> = { ok: true, value: undefined };
    if (this.handle) {
      result = this.system.disconnect(this.handle, disposition);
      if (result.ok) this.handle = null;
    }
    later(() => {
      if (!result.ok) return cb(pcscError('SCardDisconnect', result.code));
      this.connected = false;
      cb(null);
    });
  }

  _transmit(data: Buffer, resLen: number, protocol: number, cb: Callback<[Error | null, Buffer?]>): void {
    checkBuffer(data, 'First argument must be a Buffer');
    checkUint32(resLen, 'Second argument must be an integer');
    checkUint32(protocol, 'Third argument must be an integer');
    checkFunction(cb, 'Fourth argument must be a callback function');
    const result: Result<Buffer> = this.handle
      ? this.system.transmit(this.handle, Buffer.from(data), resLen, protocol)
      : { ok: false, code: 0x80100003 };
    later(() => {
      if (!result.ok) return cb(pcscError('SCardTransmit', result.code));
      cb(null, result.value);
    });
  }

  _control(data: Buffer, controlCode: number, output: Buffer, cb: Callback<[Error | null, number?]>): void {
    checkBuffer(data, 'First argument must be a Buffer');
    checkUint32(controlCode, 'Second argument must be an integer');
    checkBuffer(output, 'Third argument must be a Buffer');
    checkFunction(cb, 'Fourth argument must be a callback function');
    const result: Result<Buffer> = this.handle
      ? this.system.control(this.handle, controlCode, Buffer.from(data), output.length)
      : { ok: false, code: 0x80100003 };
    later(() => {
      if (!result.ok) return cb(pcscError('SCardControl', result.code));
      result.value.copy(output);
      cb(null, result.value.length);
    });
  }

  // ---- JavaScript layer (lib/pcsclite.js) --------------------------------------------------------

  connect(cb: (err: Error | null | undefined, protocol?: number) => void): void;
  connect(options: ConnectOptions | undefined, cb: (err: Error | null | undefined, protocol?: number) => void): void;
  connect(
    optionsOrCb: ConnectOptions | undefined | ((err: Error | null | undefined, protocol?: number) => void),
    maybeCb?: (err: Error | null | undefined, protocol?: number) => void,
  ): void {
    let options: ConnectOptions | undefined;
    let cb: (err: Error | null | undefined, protocol?: number) => void;
    if (typeof optionsOrCb === 'function') {
      cb = optionsOrCb;
      options = undefined;
    } else {
      options = optionsOrCb;
      cb = maybeCb as (err: Error | null | undefined, protocol?: number) => void;
    }
    options = options ?? {};
    options.share_mode = options.share_mode || this.SCARD_SHARE_EXCLUSIVE;
    if (typeof options.protocol === 'undefined' || options.protocol === null) {
      options.protocol = this.SCARD_PROTOCOL_T0 | this.SCARD_PROTOCOL_T1;
    }
    if (!this.connected) {
      this._connect(options.share_mode, options.protocol, cb);
    } else {
      cb(undefined);
    }
  }

  disconnect(cb: (err: Error | null | undefined) => void): void;
  disconnect(disposition: number | undefined, cb: (err: Error | null | undefined) => void): void;
  disconnect(
    dispositionOrCb: number | undefined | ((err: Error | null | undefined) => void),
    maybeCb?: (err: Error | null | undefined) => void,
  ): void {
    let disposition: number | undefined;
    let cb: (err: Error | null | undefined) => void;
    if (typeof dispositionOrCb === 'function') {
      cb = dispositionOrCb;
      disposition = undefined;
    } else {
      disposition = dispositionOrCb;
      cb = maybeCb as (err: Error | null | undefined) => void;
    }
    if (typeof disposition !== 'number') disposition = this.SCARD_UNPOWER_CARD;
    if (this.connected) {
      this._disconnect(disposition, cb);
    } else {
      cb(undefined);
    }
  }

  transmit(data: Buffer, res_len: number, protocol: number, cb: (err: Error | null, response?: Buffer) => void): void {
    if (!this.connected) {
      cb(new Error('Card Reader not connected'));
      return;
    }
    this._transmit(data, res_len, protocol, cb);
  }

  control(data: Buffer, control_code: number, res_len: number, cb: (err: Error | null, response?: Buffer) => void): void {
    if (!this.connected) {
      cb(new Error('Card Reader not connected'));
      return;
    }
    const output = Buffer.alloc(res_len);
    this._control(data, control_code, output, (err, len) => {
      if (err) return cb(err);
      cb(err, output.subarray(0, len));
    });
  }

  /** pcsclite's formula on Linux/macOS (no range check, like the package). */
  SCARD_CTL_CODE(code: number): number {
    return 0x42000000 + code;
  }
}

Object.assign(MockCardReader.prototype, SCARD);
