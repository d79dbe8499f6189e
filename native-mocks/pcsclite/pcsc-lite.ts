// What `pcsclite()` returns: watches the reader list of the simulated pcscd and emits 'reader' for
// each new one ('error' when pcscd goes away). The module function of lib/pcsclite.js, ported.
import { EventEmitter } from 'node:events';
import { MockCardReader } from './card-reader.js';
import { pcscError, SCARD_E } from './constants.js';
import type { MockPcscSystem } from './system.js';

export class MockPcscLite extends EventEmitter {
  /** Readers currently reported, by name (the package exposes the same map). */
  readers: Record<string, MockCardReader> = {};

  private readonly generation: number;
  private monitoring = false;
  private stopped = false;
  private readonly onReaders = (): void => {
    setImmediate(() => this.scan());
  };
  private readonly onDaemonStop = (generation: number): void => {
    if (generation !== this.generation) return;
    this.stopMonitoring();
    setImmediate(() => this.emit('error', pcscError('SCardGetStatusChange', SCARD_E.COMM_ERROR)));
  };

  /** @throws the package's SCardEstablishContext error when pcscd is not running. */
  constructor(private readonly system: MockPcscSystem) {
    super();
    if (!system.daemonRunning) throw pcscError('SCardEstablishContext', SCARD_E.NO_SERVICE);
    this.generation = system.generation;
    process.nextTick(() => this.start());
  }

  private start(): void {
    if (this.stopped) return;
    this.monitoring = true;
    this.system.on('readers', this.onReaders);
    this.system.on('daemon-stop', this.onDaemonStop);
    if (this.system.daemonRunning && this.system.generation === this.generation) {
      setImmediate(() => this.scan());
    } else {
      this.onDaemonStop(this.generation);
    }
  }

  private stopMonitoring(): void {
    this.stopped = true;
    if (!this.monitoring) return;
    this.monitoring = false;
    this.system.off('readers', this.onReaders);
    this.system.off('daemon-stop', this.onDaemonStop);
  }

  private scan(): void {
    if (this.stopped || !this.system.daemonRunning || this.system.generation !== this.generation) return;
    const names = this.system.readerNames();
    const current = Object.keys(this.readers);
    const added = names.filter((n) => !current.includes(n));
    const removed = current.filter((n) => !names.includes(n));
    for (const name of added) {
      const r = new MockCardReader(this.system, name);
      r.on('_end', () => {
        r.removeAllListeners('status');
        r.emit('end');
        if (this.readers[name] === r) delete this.readers[name];
      });
      this.readers[name] = r;
      r.get_status((err, state, atr) => {
        if (err) {
          r.emit('error', err);
          return;
        }
        const status: { state: number; atr?: Buffer } = { state: state ?? 0 };
        if (atr) status.atr = atr;
        r.emit('status', status);
        r.state = state;
      });
      this.emit('reader', r);
    }
    for (const name of removed) this.readers[name]?.close();
  }

  /** Stops watching the reader list (reader objects keep reporting their own status). */
  close(): number {
    this.stopMonitoring();
    return 0;
  }
}
