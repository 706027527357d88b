// Small byte arrays without an ArrayBuffer each.

/**
 * Small byte arrays are carved from shared slabs, as Node's Buffer pool does:
 * an ArrayBuffer of its own for every message costs a backing store and a
 * tracked extension each, and with a million of them alive (a cold start of
 * 1,000 peers) making them was a fifth of the CPU and much of the collector's
 * work. A slab is freed once no array carved from it is alive, so bytes kept
 * for long (a member's key, its cached entry) get slabs of their own: one
 * such array among short-lived datagrams would hold their whole slab.
 */
class SlabPool {
  private readonly size: number;
  private slab: Uint8Array;
  private used = 0;

  constructor(size: number) {
    this.size = size;
    this.slab = new Uint8Array(size);
  }

  alloc(n: number): Uint8Array {
    if (n > SLAB_MAX_ALLOCATION) return new Uint8Array(n);
    if (this.used + n > this.size) {
      this.slab = new Uint8Array(this.size);
      this.used = 0;
    }
    // subarray makes a view about twice as fast as new Uint8Array(buffer, offset, n).
    const out = this.slab.subarray(this.used, this.used + n);
    this.used += (n + 7) & ~7;
    return out;
  }
}

const SLAB_MAX_ALLOCATION = 4096;
// Short-lived bytes are most of what is made: big slabs, fewer ArrayBuffers.
const shortLived = new SlabPool(65_536);
// Kept bytes churn too (a member's entry is made again at each change): smaller
// slabs bound what one survivor among them holds.
const longLived = new SlabPool(8_192);

/** `n` zeroed bytes that no other array shares, for bytes that soon die (a datagram, a rumour). */
export function allocBytes(n: number): Uint8Array {
  return shortLived.alloc(n);
}

/** A copy of `parts`, one after another, that no other array shares, for bytes kept for long (a stored record's key). */
export function keepBytes(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const part of parts) n += part.length;
  const out = longLived.alloc(n);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** Whether a[aStart..] begins with all of b. */
export function bytesEqualAt(a: Uint8Array, aStart: number, b: Uint8Array): boolean {
  if (a.length - aStart < b.length) return false;
  for (let i = 0; i < b.length; i++) if (a[aStart + i] !== b[i]) return false;
  return true;
}

/** Whether a and b hold the same bytes. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && bytesEqualAt(a, 0, b);
}
