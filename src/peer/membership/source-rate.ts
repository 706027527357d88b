// A per-source rate limit (token bucket per address) for requests whose
// answers cost more than the request: state-sync pulls and pushes. Pure: time
// comes in as `now`. Remembers a bounded number of sources; a forgotten one
// starts again with a full bucket, which is at most one burst more.

const SOURCES_MAX = 1024;

export class SourceRate {
  private readonly perSecond: number;
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(perSecond: number) {
    this.perSecond = perSecond;
  }

  /** Whether `source` may have a request of `cost` (1 by default) answered at `now` (ms); if so it is counted. */
  allow(source: string, now: number, cost = 1): boolean {
    const bucket = this.buckets.get(source) ?? { tokens: this.perSecond, at: now };
    bucket.tokens = Math.min(this.perSecond, bucket.tokens + ((now - bucket.at) * this.perSecond) / 1000);
    bucket.at = now;
    this.buckets.delete(source);
    this.buckets.set(source, bucket);
    if (this.buckets.size > SOURCES_MAX) this.buckets.delete(this.buckets.keys().next().value!);
    // A little slack for rounding: 32 requests of 1/32 make one whole.
    if (bucket.tokens < cost - 1e-9) return false;
    bucket.tokens -= cost;
    return true;
  }
}
