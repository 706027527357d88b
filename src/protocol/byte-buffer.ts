// Bounded big-endian byte reader and writer for the gossip wire codec.
// The reader never reads past its end: every read checks the remaining length
// and fails with a WireFormatError carrying a drop reason, which the codec turns
// into a result value (nothing escapes to the socket handler).

import { EnclaveElectError } from '../errors.ts';
import { allocBytes, keepBytes } from '../platform/byte-slabs.ts';

export class WireFormatError extends EnclaveElectError {
  /** The drop reason the codec counts the datagram under. */
  readonly reason: string;
  constructor(reason: string, detail?: string) {
    super('E_WIRE_FORMAT', detail ? `${reason}: ${detail}` : reason);
    this.reason = reason;
  }
}

export class ByteReader {
  private readonly bytes: Uint8Array;
  private readonly view: DataView;
  private offset = 0;
  private readonly end: number;

  constructor(bytes: Uint8Array, start = 0, end = bytes.length, view?: DataView) {
    if (view) {
      // A reader over part of another's bytes (sub): its views, not new ones.
      this.bytes = bytes;
      this.view = view;
    } else {
      // A plain Uint8Array view even over a Buffer, so slices read back as Uint8Array.
      this.bytes = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    }
    this.offset = start;
    this.end = end;
  }

  get remaining(): number {
    return this.end - this.offset;
  }

  get position(): number {
    return this.offset;
  }

  private need(n: number): number {
    if (this.end - this.offset < n) throw new WireFormatError('truncated');
    const at = this.offset;
    this.offset += n;
    return at;
  }

  u8(): number {
    return this.view.getUint8(this.need(1));
  }

  u16(): number {
    return this.view.getUint16(this.need(2));
  }

  u32(): number {
    return this.view.getUint32(this.need(4));
  }

  /** An unsigned 64-bit integer that must fit in a JavaScript safe integer. */
  u53(): number {
    const at = this.need(8);
    const high = this.view.getUint32(at);
    const low = this.view.getUint32(at + 4);
    if (high > 0x1fffff) throw new WireFormatError('bad-number', 'above 2^53-1');
    return high * 0x1_0000_0000 + low;
  }

  bytesOf(n: number): Uint8Array {
    const at = this.need(n);
    return this.bytes.subarray(at, at + n);
  }

  /** A reader over the next n bytes; this reader skips past them. */
  sub(n: number): ByteReader {
    const at = this.need(n);
    return new ByteReader(this.bytes, at, at + n, this.view);
  }

  /**
   * Skip the next n bytes and say where they are: `source[at .. at + n)`.
   * For reading them in place without a view of their own (see `source`).
   */
  skip(n: number): number {
    return this.need(n);
  }

  /** The bytes this reader reads, whole: index them with `skip`'s offsets only. */
  get source(): Uint8Array {
    return this.bytes;
  }
}

/**
 * One scratch buffer a writer borrows while no other writer holds it (they
 * rarely nest): finish() copies out exactly the bytes written, so a message
 * costs one allocation instead of two (the profile of a cold start of 1,000
 * peers had the writers' buffers among the first costs, with the garbage
 * collector's share that they caused).
 */
const SCRATCH = new Uint8Array(1 << 16);
const SCRATCH_VIEW = new DataView(SCRATCH.buffer);
let scratchFree = true;

export class ByteWriter {
  private buffer: Uint8Array;
  private view: DataView;
  private offset = 0;
  private borrowed: boolean;

  constructor(capacity = 256) {
    this.borrowed = scratchFree && capacity <= SCRATCH.length;
    if (this.borrowed) {
      scratchFree = false;
      this.buffer = SCRATCH;
      this.view = SCRATCH_VIEW;
    } else {
      this.buffer = new Uint8Array(capacity);
      this.view = new DataView(this.buffer.buffer);
    }
  }

  get length(): number {
    return this.offset;
  }

  private reserve(n: number): number {
    if (this.offset + n > this.buffer.length) {
      const next = new Uint8Array(Math.max(this.buffer.length * 2, this.offset + n));
      next.set(this.buffer.subarray(0, this.offset));
      this.release();
      this.buffer = next;
      this.view = new DataView(next.buffer);
    }
    const at = this.offset;
    this.offset += n;
    return at;
  }

  u8(value: number): this {
    const at = this.reserve(1);
    this.view.setUint8(at, value);
    return this;
  }

  u16(value: number): this {
    const at = this.reserve(2);
    this.view.setUint16(at, value);
    return this;
  }

  u32(value: number): this {
    const at = this.reserve(4);
    this.view.setUint32(at, value);
    return this;
  }

  u53(value: number): this {
    if (!Number.isSafeInteger(value) || value < 0) throw new WireFormatError('bad-number', String(value));
    const at = this.reserve(8);
    this.view.setUint32(at, Math.floor(value / 0x1_0000_0000));
    this.view.setUint32(at + 4, value >>> 0);
    return this;
  }

  bytes(value: Uint8Array): this {
    const at = this.reserve(value.length);
    this.buffer.set(value, at);
    return this;
  }

  /** Overwrite a u16 written earlier (length prefixes). */
  patchU16(at: number, value: number): void {
    this.view.setUint16(at, value);
  }

  /** The bytes written, as a copy of their own (`kept`: to be kept for long); the writer is done. */
  finish(kept = false): Uint8Array {
    const written = this.buffer.subarray(0, this.offset);
    let out: Uint8Array;
    if (kept) out = keepBytes(written);
    else {
      out = allocBytes(this.offset);
      out.set(written);
    }
    this.release();
    return out;
  }

  /** Whether no writer holds the scratch now (for tests). */
  static get scratchFree(): boolean {
    return scratchFree;
  }

  /**
   * Write with a fresh writer and return its bytes; the scratch is handed back
   * even when `write` throws (a writer abandoned otherwise would keep it, and
   * every later writer would allocate).
   */
  static encode(capacity: number, write: (w: ByteWriter) => void, kept = false): Uint8Array {
    const w = new ByteWriter(capacity);
    try {
      write(w);
      return w.finish(kept);
    } finally {
      w.release();
    }
  }

  /** Hand the scratch back (once: later calls do nothing). */
  private release(): void {
    if (!this.borrowed) return;
    this.borrowed = false;
    scratchFree = true;
  }
}
