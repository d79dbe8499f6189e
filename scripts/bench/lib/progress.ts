// Progress bars on stderr with cli-progress when it is installed and stderr is a terminal; silent
// otherwise (the table on stdout is the result either way).
import { createRequire } from 'node:module';

export interface Progress {
  /** A bar of `total` steps labelled `label`. */
  bar(label: string, total: number): { tick(n?: number): void; done(): void };
  stop(): void;
}

interface CliProgress {
  MultiBar: new (options: Record<string, unknown>, preset?: unknown) => {
    create(total: number, start: number, payload?: Record<string, unknown>): { increment(n?: number): void; update(n: number): void; getTotal(): number };
    stop(): void;
  };
  Presets: Record<string, unknown>;
}

function loadCliProgress(): CliProgress | null {
  try {
    return createRequire(import.meta.url)('cli-progress') as CliProgress;
  } catch {
    return null;
  }
}

export function createProgress(): Progress {
  const lib = process.stderr.isTTY ? loadCliProgress() : null;
  if (!lib) {
    return {
      bar: (label) => {
        process.stderr.write(`… ${label}\n`);
        return { tick: () => undefined, done: () => undefined };
      },
      stop: () => undefined,
    };
  }
  const multi = new lib.MultiBar(
    { format: ' {bar} {percentage}% | {value}/{total} | {label}', hideCursor: true, clearOnComplete: false, stream: process.stderr, autopadding: true },
    lib.Presets.shades_classic,
  );
  return {
    bar(label, total) {
      const b = multi.create(total, 0, { label });
      return { tick: (n = 1) => b.increment(n), done: () => b.update(b.getTotal()) };
    },
    stop: () => multi.stop(),
  };
}
