// Byte-array plumbing shared by the encoders and parsers of this folder.

/**
 * A fresh, unshared Uint8Array with the content of `view`.
 * Why not `view.slice()`: when `view` is a Node Buffer (pcsclite returns Buffers), Buffer#slice
 * is a view, not a copy, and its result is a Buffer again. Decoded values must not change when
 * the transport reuses its buffer, and must be plain Uint8Arrays for the browser bundle.
 */
export function copyBytes(view: Uint8Array): Uint8Array {
  return new Uint8Array(view);
}

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const part of parts) total += part.length;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Throws RangeError unless `value` is an integer in [min, max]; for caller mistakes, not bad input. */
export function checkInteger(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer in ${min}..${max}, got ${String(value)}`);
  }
}

export function checkByte(name: string, value: number): void {
  checkInteger(name, value, 0, 0xff);
}
