/**
 * Values decoded before, by a hash of their bytes: a cold start of 1,000
 * decodes each of 1,000 names, addresses and admissions about a million times
 * over, and building each value anew was a tenth of all bytes allocated.
 *
 * A hit must pass `same` against the bytes in full (a hash collision only
 * misses), and the cache is emptied when it holds `max` entries, so bytes an
 * attacker makes up cost a miss each, as without the cache, and at most `max`
 * values. `same` is a plain function of (value, bytes, offset, length), not a
 * closure per lookup: this is on the decoder's hottest path.
 */
export class DecodeCache<V> {
  readonly #byHash = new Map<number, V>();
  readonly #max: number;
  readonly #same: (value: V, source: Uint8Array, at: number, length: number) => boolean;

  constructor(max: number, same: (value: V, source: Uint8Array, at: number, length: number) => boolean) {
    this.#max = max;
    this.#same = same;
  }

  /** The value cached for hash whose bytes equal source[at, at + length), if any. */
  hit(hash: number, source: Uint8Array, at: number, length: number): V | undefined {
    const known = this.#byHash.get(hash);
    return known !== undefined && this.#same(known, source, at, length) ? known : undefined;
  }

  /** Remember value under hash (emptying the cache first when full); returns value. */
  keep(hash: number, value: V): V {
    if (this.#byHash.size >= this.#max) this.#byHash.clear();
    this.#byHash.set(hash, value);
    return value;
  }

  get size(): number {
    return this.#byHash.size;
  }
}
