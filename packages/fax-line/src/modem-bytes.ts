/**
 * The bytes of a modem's data mode (DLE framing, XON/XOFF), how they read in a trace, and the
 * cancellable wait the modem conversation is built on.
 */

export const DLE = 0x10;
export const ETX = 0x03;
export const XON = 0x11;
export const XOFF = 0x13;
export const CAN = 0x18;
export const SUB = 0x1a;

/**
 * Waits `ms` (not at all when it is not positive), less when `signal` fires; never rejects.
 * `onWait` is handed the function that ends the wait early.
 */
export function sleep(ms: number, signal?: AbortSignal, onWait?: (wake: () => void) => void): Promise<void> {
  return new Promise((resolve) => {
    if (ms <= 0 || signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    const onAbort = (): void => done();
    signal?.addEventListener('abort', onAbort, { once: true });
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }
    onWait?.(done);
  });
}

/** Makes binary bytes readable in a trace: printable ASCII as is, the rest as <hex>. */
export function printable(bytes: Uint8Array): string {
  let out = '';
  for (const byte of bytes) {
    if (byte === DLE) out += '<DLE>';
    else if (byte === ETX) out += '<ETX>';
    else if (byte >= 0x20 && byte < 0x7f) out += String.fromCharCode(byte);
    else out += `<${byte.toString(16).padStart(2, '0')}>`;
  }
  return out;
}

/** Doubles every DLE so data can be framed by <DLE><ETX>. */
export function escapeDle(data: Uint8Array): Buffer {
  const input = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  // Whole runs between DLEs are copied at once (indexOf and copy run natively, not byte by byte in JS).
  let count = 0;
  for (let at = input.indexOf(DLE); at >= 0; at = input.indexOf(DLE, at + 1)) count++;
  if (count === 0) return Buffer.from(input);
  const out = Buffer.allocUnsafe(input.length + count);
  let from = 0;
  let j = 0;
  for (let at = input.indexOf(DLE); at >= 0; at = input.indexOf(DLE, at + 1)) {
    j += input.copy(out, j, from, at + 1);
    out[j++] = DLE;
    from = at + 1;
  }
  input.copy(out, j, from);
  return out;
}
