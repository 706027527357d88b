// Replay protection for sealed gossip: a sealed datagram carries the time its
// sender sealed it (wall clock) and a random 96-bit nonce. A receiver accepts
// it only within `windowMs` of its own clock and only once: it remembers the
// nonces it accepted for as long as they could still pass the time check.
// Memory is bounded: past `maxEntries` the oldest nonces are forgotten and
// every datagram sealed no later than them is refused from then on (the floor),
// so a forgotten nonce can never be replayed.

/** Default window: wide enough for hosts whose clocks differ by tens of seconds. */
export const DEFAULT_REPLAY_WINDOW_MS = 60_000;

export type ReplayVerdict = 'stale' | 'replayed' | undefined;

export class ReplayWindow {
  readonly windowMs: number;
  private readonly maxEntries: number;
  /** Accepted nonces (as latin1 strings) and when they were sealed, in arrival order. */
  private readonly seen = new Map<string, number>();
  private floor = Number.NEGATIVE_INFINITY;

  constructor(windowMs: number, maxEntries = 65_536) {
    if (!(windowMs > 0) || !(maxEntries > 0)) throw new RangeError('a replay window needs a positive size');
    this.windowMs = windowMs;
    this.maxEntries = maxEntries;
  }

  get size(): number {
    return this.seen.size;
  }

  /** Accept (undefined, and remember the nonce) or say why not. */
  check(sealedAt: number, nonce: Uint8Array, now: number): ReplayVerdict {
    if (Math.abs(now - sealedAt) > this.windowMs || sealedAt <= this.floor) return 'stale';
    this.forgetExpired(now);
    const key = Buffer.from(nonce.buffer, nonce.byteOffset, nonce.byteLength).toString('latin1');
    if (this.seen.has(key)) return 'replayed';
    if (this.seen.size >= this.maxEntries) {
      const [oldest, at] = this.seen.entries().next().value as [string, number];
      this.seen.delete(oldest);
      this.floor = Math.max(this.floor, at);
    }
    this.seen.set(key, sealedAt);
    return undefined;
  }

  /** Nonces sealed before the window can no longer pass the time check: drop them. */
  private forgetExpired(now: number): void {
    for (const [key, at] of this.seen) {
      if (at >= now - this.windowMs) return;
      this.seen.delete(key);
    }
  }
}
