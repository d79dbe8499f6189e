// The part of the `pcsclite` package's API that cardbridge uses, typed from its lib/pcsclite.js
// and native CardReader. The real module and the native mock (native-mocks/pcsclite) both fit it,
// so the transport takes a `PcscProvider` and never names either.

/** A reader's state as `pcsclite` reports it in 'status' events (dwEventState + ATR). */
export interface PcscReaderStatus {
  /** SCARD_STATE_* bits; the upper 16 bits count card insertions and removals (pcsc-lite). */
  state: number;
  atr?: Buffer;
}

export interface PcscConnectOptions {
  share_mode?: number;
  protocol?: number;
}

export type PcscConnectCallback = (err: Error | null | undefined, protocol?: number) => void;
export type PcscDoneCallback = (err: Error | null | undefined) => void;
export type PcscDataCallback = (err: Error | null | undefined, response?: Buffer) => void;

/** The SCARD_* numbers every CardReader carries on its prototype. */
export interface PcscConstants {
  readonly SCARD_SHARE_SHARED: number;
  readonly SCARD_SHARE_EXCLUSIVE: number;
  readonly SCARD_SHARE_DIRECT: number;
  readonly SCARD_PROTOCOL_T0: number;
  readonly SCARD_PROTOCOL_T1: number;
  readonly SCARD_PROTOCOL_RAW: number;
  readonly SCARD_STATE_UNAWARE: number;
  readonly SCARD_STATE_EMPTY: number;
  readonly SCARD_STATE_PRESENT: number;
  readonly SCARD_STATE_MUTE: number;
  readonly SCARD_LEAVE_CARD: number;
  readonly SCARD_RESET_CARD: number;
  readonly SCARD_UNPOWER_CARD: number;
}

/**
 * A reader object (`CardReader`): one PC/SC connection at most (its `connected` flag), and a
 * status thread that emits 'status' at every change, 'error' then 'end' when it stops.
 * Careful: its `connect()` defaults to EXCLUSIVE and `disconnect()` to UNPOWER.
 */
export interface PcscReader extends PcscConstants {
  readonly name: string;
  connected: boolean;
  /** dwEventState of the last 'status' (set after the listeners ran). */
  state?: number;
  connect(options: PcscConnectOptions, cb: PcscConnectCallback): void;
  disconnect(disposition: number, cb: PcscDoneCallback): void;
  transmit(data: Buffer, res_len: number, protocol: number, cb: PcscDataCallback): void;
  control(data: Buffer, control_code: number, res_len: number, cb: PcscDataCallback): void;
  /** Stops the status thread ('end' follows). Must not be called from inside one of its own events. */
  close(): unknown;
  on(event: 'status', listener: (status: PcscReaderStatus) => void): this;
  on(event: 'error', listener: (err: Error) => void): this;
  on(event: 'end', listener: () => void): this;
  removeAllListeners(event?: string): this;
}

/** What `pcsclite()` returns: one PC/SC context watching the reader list. */
export interface PcscLite {
  readonly readers: Record<string, PcscReader>;
  on(event: 'reader', listener: (reader: PcscReader) => void): this;
  on(event: 'error', listener: (err: Error) => void): this;
  removeAllListeners(event?: string): this;
  /** Stops watching the reader list. Must not be called from inside one of its own events. */
  close(): unknown;
}

/**
 * The package's default export: creates a new context. Throws (SCardEstablishContext error)
 * when pcscd is not running. `loadPcsclite()` gives the real one; tests pass the mock's
 * `createMockPcsc().pcsclite`.
 */
export type PcscProvider = () => PcscLite;
