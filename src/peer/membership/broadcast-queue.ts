// Retransmit-limited broadcast queue (memberlist's TransmitLimitedQueue):
// rumours piggyback on outgoing datagrams, least-sent first and newest first
// among equals; each is sent at most `limit` times; a newer rumour with the
// same key (the same member, the same certificate slot) replaces an older one.
// Feedback (Demers et al.'s rumour mongering, passively): hearing our own
// rumour again from someone else is evidence it is already widespread, so each
// such echo counts as some transmissions of our copy. After a mass join, when
// anti-entropy has already told everyone, queues drain in seconds instead of
// spending the full retransmit budget on news nobody needs.

interface QueuedBroadcast {
  key: string;
  bytes: Uint8Array;
  /** What exactly the rumour says (e.g. 'alive:7'), for matching echoes. */
  tag: string | undefined;
  transmits: number;
  dropped: boolean;
  /** Creation order: higher is newer. */
  id: number;
}

export class BroadcastQueue {
  /** buckets[t]: rumours sent t times so far; later entries are newer. */
  private buckets: QueuedBroadcast[][] = [];
  private readonly byKey = new Map<string, QueuedBroadcast>();
  private nextId = 0;
  /** Rumours held at most: past it, the most-sent (oldest among those) leaves first. */
  private readonly capacity: number;

  constructor(capacity = Number.POSITIVE_INFINITY) {
    this.capacity = capacity;
  }

  get size(): number {
    return this.byKey.size;
  }

  /** Entries the buckets hold: `size` plus retired ones not yet removed (a few at most). */
  get filed(): number {
    let n = 0;
    for (const bucket of this.buckets) n += bucket?.length ?? 0;
    return n;
  }

  /** Queue an encoded message under `key`, replacing any older rumour with that key. */
  push(key: string, bytes: Uint8Array, tag?: string): void {
    const old = this.byKey.get(key);
    if (old) this.retire(old);
    const item: QueuedBroadcast = { key, bytes, tag, transmits: 0, dropped: false, id: this.nextId++ };
    this.byKey.set(key, item);
    this.bucket(0).push(item);
    if (this.byKey.size > this.capacity) this.evict();
  }

  /** Drop the rumour sent most often (the oldest of those): the one most peers have heard. */
  private evict(): void {
    for (let t = this.buckets.length - 1; t >= 0; t--) {
      const bucket = this.buckets[t];
      if (!bucket) continue;
      while (bucket.length > 0) {
        const item = bucket.shift()!;
        if (item.dropped) continue;
        item.dropped = true;
        if (this.byKey.get(item.key) === item) this.byKey.delete(item.key);
        return;
      }
    }
  }

  /** Forget the rumour under `key`, if any (newer news about it went elsewhere). */
  drop(key: string): void {
    const item = this.byKey.get(key);
    if (item) this.forget(item);
  }

  /**
   * Someone else sent us the rumour we hold under `key` (same `tag`): count it
   * as `weight` transmissions of ours; at `limit` it leaves the queue.
   */
  heardAgain(key: string, tag: string, weight: number, limit: number): void {
    const item = this.byKey.get(key);
    if (!item || item.tag !== tag) return;
    const transmits = item.transmits + weight;
    if (transmits >= limit) {
      this.forget(item);
      return;
    }
    // Retire this one, file a copy under its new count.
    this.retire(item);
    const moved: QueuedBroadcast = { ...item, transmits, dropped: false };
    this.byKey.set(key, moved);
    insertById(this.bucket(transmits), moved);
  }

  /**
   * Take rumours that fit in `budget` bytes, at most `count` of them, counting
   * a transmission for each. Rumours that reached `limit` transmissions leave the queue.
   */
  take(budget: number, limit: number, count = Number.POSITIVE_INFINITY): Uint8Array[] {
    const out: Uint8Array[] = [];
    if (this.byKey.size === 0 || count <= 0) return out;
    const taken: QueuedBroadcast[] = [];
    let remaining = budget;
    for (let t = 0; t < this.buckets.length && remaining > 0 && out.length < count; t++) {
      const bucket = this.buckets[t];
      if (!bucket || bucket.length === 0) continue;
      let skipped = 0;
      for (let i = bucket.length - 1; i >= 0 && remaining > 0 && out.length < count; i--) {
        const item = bucket[i]!;
        if (item.dropped || item.transmits >= limit) {
          removeAt(bucket, i);
          this.forget(item);
          continue;
        }
        if (item.bytes.length > remaining) {
          // Sizes vary little; stop scanning once a few in a row do not fit.
          if (++skipped > 8) break;
          continue;
        }
        removeAt(bucket, i);
        remaining -= item.bytes.length;
        out.push(item.bytes);
        taken.push(item);
      }
    }
    for (const item of taken) {
      item.transmits++;
      if (item.transmits >= limit) this.forget(item);
      else insertById(this.bucket(item.transmits), item);
    }
    return out;
  }

  private bucket(transmits: number): QueuedBroadcast[] {
    let bucket = this.buckets[transmits];
    if (!bucket) {
      bucket = [];
      this.buckets[transmits] = bucket;
    }
    return bucket;
  }

  private forget(item: QueuedBroadcast): void {
    this.retire(item);
    if (this.byKey.get(item.key) === item) this.byKey.delete(item.key);
  }

  /**
   * Mark `item` dropped and take it out of its bucket now. `take` skips dropped
   * entries too, but only those its scan reaches: a scan stops when the budget
   * is spent, so a slot replaced faster than the scan got to it (a lease
   * renewed twice a second, each filling the room left) piled up hundreds of
   * retired copies.
   */
  private retire(item: QueuedBroadcast): void {
    if (item.dropped) return;
    item.dropped = true;
    const bucket = this.buckets[item.transmits];
    if (!bucket) return;
    const at = indexById(bucket, item.id);
    if (bucket[at] === item) bucket.splice(at, 1);
  }
}

/** Remove entry `i`: a pop for the newest (where `take` starts), which is most of them. */
function removeAt(bucket: QueuedBroadcast[], i: number): void {
  if (i === bucket.length - 1) bucket.pop();
  else bucket.splice(i, 1);
}

/** Where an entry with `id` is, or would go, in a bucket ordered by creation. */
function indexById(bucket: QueuedBroadcast[], id: number): number {
  let low = 0;
  let high = bucket.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (bucket[mid]!.id < id) low = mid + 1;
    else high = mid;
  }
  return low;
}

/** Keep a bucket ordered by creation (newest last). */
function insertById(bucket: QueuedBroadcast[], item: QueuedBroadcast): void {
  bucket.splice(indexById(bucket, item.id), 0, item);
}
