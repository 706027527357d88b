// Freshness of signed requests: a request's `ts` must lie within `skewMs` of
// the enclave's clock and its `nonce` must be new. Nonces are remembered until
// their `ts` leaves the window, in a set bounded by `capacity`: when it is full
// the oldest is forgotten and the window's lower edge rises above it, so a
// forgotten nonce can never be replayed (it is refused as stale instead).
// Pure: time comes in as `now`.

export type FreshnessVerdict = 'fresh' | 'stale' | 'replayed';

export class ReplayGuard {
  readonly skewMs: number;
  readonly capacity: number;
  /** nonce -> ts, in insertion order (Map keeps it) for eviction. */
  readonly #seen = new Map<string, number>();
  /** Requests with ts at or below this were possibly forgotten: refused as stale. */
  #floor = Number.NEGATIVE_INFINITY;

  constructor(skewMs: number, capacity: number) {
    if (!(skewMs > 0) || !Number.isSafeInteger(capacity) || capacity < 1) {
      throw new RangeError(`ReplayGuard needs skewMs > 0 and capacity >= 1, got ${skewMs}, ${capacity}`);
    }
    this.skewMs = skewMs;
    this.capacity = capacity;
  }

  get size(): number {
    return this.#seen.size;
  }

  /** Judge a request without remembering it (nothing may change for a refused request). */
  check(ts: number, nonce: string, now: number): FreshnessVerdict {
    if (Math.abs(ts - now) > this.skewMs || ts <= this.#floor) return 'stale';
    return this.#seen.has(nonce) ? 'replayed' : 'fresh';
  }

  /** Remember an accepted request's nonce. */
  remember(ts: number, nonce: string, now: number): void {
    for (const [seen, at] of this.#seen) {
      if (at >= now - this.skewMs) break;
      this.#seen.delete(seen);
    }
    while (this.#seen.size >= this.capacity) {
      const [oldest, at] = this.#seen.entries().next().value as [string, number];
      this.#seen.delete(oldest);
      this.#floor = Math.max(this.#floor, at);
    }
    this.#seen.set(nonce, ts);
  }
}
