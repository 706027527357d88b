// Positive signature verdicts, remembered per process. A signature that
// verified over given bytes with a given key verifies again, so the check is
// made once per process, whichever peer in it asks: with one peer per process
// (a deployment) this is that peer's cache; where many peers share a process
// (the in-process benches, local simulations) they share the work instead of
// each repeating it N times. Only successes are kept, so hostile input cannot
// fill the memo with anything but the bounded FIFO of real signatures it
// would have had to verify anyway. Keyed by SHA-256 over key, bytes and
// signature, each length-prefixed.
import { createHash } from '../platform/node-crypto.ts';

export class VerdictMemo {
  readonly #seen = new Set<string>();
  readonly #capacity: number;
  hits = 0;

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  static key(...parts: Uint8Array[]): string {
    const hash = createHash('sha256');
    const length = Buffer.alloc(4);
    for (const part of parts) {
      length.writeUInt32BE(part.length);
      hash.update(length).update(part);
    }
    return hash.digest('base64url');
  }

  /** True when `key` verified before in this process. */
  has(key: string): boolean {
    const seen = this.#seen.has(key);
    if (seen) this.hits++;
    return seen;
  }

  remember(key: string): void {
    if (this.#seen.has(key)) return;
    if (this.#seen.size >= this.#capacity) this.#seen.delete(this.#seen.values().next().value!);
    this.#seen.add(key);
  }

  get size(): number {
    return this.#seen.size;
  }
}
