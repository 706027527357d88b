// Join and anti-entropy (push-pull): full membership tables exchanged as
// self-contained parts, merged entry by entry. Owns when this peer counts as
// joined, the pulls after joining, the periodic pull (plus Serf's
// reconnect to one dead member, so healed partitions find each other).
//
// Cost at scale: a full table is O(n) datagrams (about 45 at n = 1000), so a
// cold start of n peers is bounded by how many full tables move. A peer not
// yet joined asks one seed at a time (the next if it still lists no one a
// second later). All later anti-entropy is by pull: we send the hashes of our
// entries (4 bytes each, split into buckets by name) and get back only the
// entries we lack or hold differently, nothing when views agree. Only Serf's reconnect to a dead
// member pushes our whole table (it must hear what we think of it to refute).
import { perObjectCache } from '../../platform/per-object-cache.ts';
import {
  encodeMemberSyncEntry,
  encodeMessage,
  encodePushPull,
  MESSAGE_OVERHEAD,
  memberRecord,
} from '../../protocol/gossip-codec.ts';
import {
  type MemberRecord,
  type PullMessage,
  type PushPullMessage,
  WIRE_LIMITS,
} from '../../protocol/gossip-messages.ts';
import { type Random, randomInt, shuffle } from '../../random/seeded-random.ts';
import { entryHash } from './entry-hash.ts';
import type { MemberRow, MemberTable } from './member-table.ts';
import type { Outbox } from './outbox.ts';
import { pullIntervalMs, pushPullIntervalMs } from './timing.ts';
import type { MembershipConfig } from './types.ts';

/** How long a joiner waits for a seed's answer before asking the next seed. */
const JOIN_ANSWER_WAIT_MS = 1000;
/**
 * Once the seed's answer came, how much longer the joiner waits to be joined
 * (listed another member: the admissions its records wait for are a round trip
 * away) before asking the next seed. On a starved host that round trip took
 * seconds, and each seed asked meanwhile sent the joiner its whole table
 * again: in a cold start of 1,000 on loopback, the seeds sent about twice the
 * tables and admissions their joiners needed.
 */
const JOIN_ANSWERED_WAIT_MS = 2000;
/**
 * Pulls after joining, one unit (pushPullAfterJoinMs, 0.5 s) apart, the first
 * 1-2 units after the join. The first goes to a seed (it saw the other
 * joiners), the rest to random members; like any pull epidemic, the share of
 * news a peer still lacks falls about quadratically per round, and a pull
 * costs a few small datagrams when nothing differs. In a cold start of 1,000
 * most members were still a few records short after the fourth pull, and
 * waited for the fifth (docs/scale.md).
 */
const QUICK_PULLS = 5;
/**
 * More pulls, one unit apart as well, while the table still changed since the
 * previous pull (the view is still filling: a mass start, a peer whose
 * answers were lost). At most this many, so a churning cluster does not keep
 * a joiner pulling. Then, the table settled, pulls 2, 4, 8, ... units apart up
 * to the regular interval (39 s at n = 1,000): a member whose own join came
 * late (its first seed's answer lost) reaches the last few others by these,
 * not by the regular pull 10 s or more later (N = 200: the last pair was
 * listed at 5.9 s, with 99% of peers knowing everyone at 3.5 s).
 */
const EXTRA_PULLS_MAX = 8;
/** Table splits kept for answering pulls: pullers' tables of different sizes split differently. */
const SPLITS_KEPT = 4;
/** A pull message's bytes besides its hashes: type, length, syncId, bucket, buckets, count. */
const PULL_HEADER = MESSAGE_OVERHEAD + 4 + 1 + 1 + 2;

export interface StateSyncContext {
  config: MembershipConfig;
  table: MemberTable;
  random: Random;
  /** Bytes each datagram spends outside its messages. */
  overhead: number;
  outbox: Outbox;
  nextSeq: () => number;
  /** Before a join message: hand over our admission, so the other side can list us at once. */
  introduce?: ((to: string) => void) | undefined;
}

export class StateSync {
  private readonly ctx: StateSyncContext;
  nextAt: number;
  /** Pulls still due after joining. */
  private quickPulls = 0;
  /** Extra pulls still allowed while the table keeps changing (see EXTRA_PULLS_MAX). */
  private extraPulls = 0;
  /** The next sync is an extra pull after joining. */
  private extraPullDue = false;
  /** The table's version when the previous pull after joining was sent. */
  private versionAtPull = -1;
  /** Addresses last given to `join`: the first pull after joining goes to one of them. */
  private seeds: readonly string[] = [];
  /** Seeds not yet asked in the current join attempt (one at a time). */
  private untriedSeeds: string[] = [];
  private nextSeedAt = Number.POSITIVE_INFINITY;
  /** The seed last asked to join, while it may answer. */
  private askedSeed: string | undefined;
  /** When that seed's answer came (see JOIN_ANSWERED_WAIT_MS). */
  private seedAnsweredAt: number | undefined;
  private hasJoined = false;
  /** The last gap of the pulls after joining once the table settled (0: none yet). */
  private tailGap = 0;

  /** The table split by bucket count for answering pulls (see membersByBucket), oldest first. */
  private readonly splits = new Map<number, MemberRow[][]>();
  /** The table's removals and length when the splits were last brought up to date. */
  private splitsRemoved = -1;
  private splitsLength = 0;

  /** Next push to a dead member (Serf's reconnect), if any is known then; set on joining. */
  private nextReconnectAt = Number.POSITIVE_INFINITY;

  constructor(ctx: StateSyncContext, now: number) {
    this.ctx = ctx;
    const base = ctx.config.pushPullIntervalMs;
    this.nextAt = now + base + randomInt(ctx.random, base);
  }

  get joined(): boolean {
    return this.hasJoined;
  }

  /** When `tick` next has work: the next sync, or asking the next seed. */
  get wakeAt(): number {
    return Math.min(this.nextAt, this.nextSeedAt, this.nextReconnectAt);
  }

  /**
   * Not joined yet: ask one seed (random order), the next one if no answer
   * comes within a second. Joined already (discovery found addresses nobody
   * knows: a new replica, the other side of a partition): sync with each.
   */
  join(addresses: readonly string[], now: number): void {
    const self = this.ctx.table.self.record.address;
    const seeds = addresses.filter((address) => address !== self);
    if (seeds.length === 0) return;
    if (this.hasJoined) {
      for (const address of seeds) this.send(address, true, false);
      return;
    }
    this.seeds = seeds;
    this.untriedSeeds = shuffle(this.ctx.random, [...seeds]);
    this.askNextSeed(now);
  }

  private askNextSeed(now: number): void {
    this.askedSeed = undefined;
    if (this.seedAnsweredAt !== undefined) {
      // It answered: give the admissions its records wait for one round trip more, once.
      this.nextSeedAt = this.seedAnsweredAt + JOIN_ANSWERED_WAIT_MS;
      this.seedAnsweredAt = undefined;
      if (now < this.nextSeedAt) return;
    }
    const address = this.untriedSeeds.shift();
    this.askedSeed = address;
    this.nextSeedAt = address === undefined ? Number.POSITIVE_INFINITY : now + JOIN_ANSWER_WAIT_MS;
    if (address !== undefined) this.send(address, true, false);
  }

  merge(from: string, message: PushPullMessage, now: number): void {
    const { table } = this.ctx;
    if (!this.hasJoined && message.response && from === this.askedSeed) this.seedAnsweredAt ??= now;
    const before = table.self.record.incarnation;
    // Suspicions in its table are the sender's word (hearsay here), not this peer's.
    const sender = table.memberAt(from)?.record.name ?? '';
    for (const entry of message.entries) {
      const { state, name, incarnation, address, publicKey, signature } = entry;
      switch (state) {
        case 'alive':
          // A joiner's own news must spread; other entries the sender already spreads.
          table.applyAlive(
            memberRecord(name, incarnation, address, publicKey, signature),
            now,
            !message.join,
            entry.admission,
          );
          break;
        case 'suspect':
        case 'dead':
          // Prefer suspecting to declaring dead on hearsay: it may refute (memberlist).
          table.applySuspect(name, incarnation, sender, now, true);
          break;
        case 'left':
          table.applyLeft(name, incarnation, now);
          break;
      }
    }
    if (table.self.record.incarnation > before) {
      // We refuted something the sender holds about us: tell it first-hand. A
      // restarted member may list nobody yet (their admissions are still on
      // the way), so its refutation would otherwise reach no one.
      this.ctx.outbox.send(from, [table.selfAlive()]);
    }
    if (!message.response && message.part === 0) {
      // What we hold of the sender first: if that is a death it must refute, it
      // fits the first datagram, which is all an unproven address may draw.
      const own = new Set(message.entries.map((e) => e.name));
      const all = table.all();
      this.send(from, false, true, [
        ...all.filter((m) => own.has(m.record.name)),
        ...all.filter((m) => !own.has(m.record.name)),
      ]);
    }
  }

  /**
   * Joined once this peer lists another live member: a seed's answer, or
   * gossip, brought its record (and the admission it needed). A seed's answer
   * alone is not enough: if this peer's introduction to it was lost, the
   * seed does not list it, so it answers none of its requests for the
   * admissions the answer's records wait for, and the peer would stay alone
   * (met at N = 600 with 1% loss). Not joined, it asks the next seed within a
   * second (and discovery keeps trying).
   */
  markJoined(from: string, now: number): void {
    if (this.hasJoined || this.ctx.table.liveCount < 2) return;
    this.hasJoined = true;
    this.untriedSeeds = [];
    this.nextSeedAt = Number.POSITIVE_INFINITY;
    this.ctx.outbox.emit({ event: 'join.succeeded', via: from, members: this.ctx.table.liveCount });
    // A young view: pull the table again soon (first from a seed, whose view
    // grows as others join at the same time), then settle to the regular interval.
    const after = this.ctx.config.pushPullAfterJoinMs;
    this.quickPulls = QUICK_PULLS;
    this.extraPulls = EXTRA_PULLS_MAX;
    this.extraPullDue = false;
    this.tailGap = 0;
    this.versionAtPull = -1;
    this.nextAt = now + after + randomInt(this.ctx.random, after);
    // The first reconnect waits a whole (randomised) interval for the table's size:
    // a thousand peers that joined together must not all push tables at once.
    const reconnect = pushPullIntervalMs(this.ctx.config.pushPullIntervalMs, this.ctx.table.liveCount);
    this.nextReconnectAt = now + reconnect + randomInt(this.ctx.random, reconnect);
  }

  tick(now: number): void {
    const { config, table } = this.ctx;
    if (!this.hasJoined && now >= this.nextSeedAt) this.askNextSeed(now);
    if (now >= this.nextReconnectAt) {
      // Serf's reconnect: push our table to one dead member, so a healed
      // partition finds its other half (each side refutes what the other says of it).
      this.nextReconnectAt = now + pushPullIntervalMs(config.pushPullIntervalMs, table.liveCount);
      // Only to a member that once proved its address (answered our ping there):
      // a made-up member that 'died' must not draw our table to an address of the attacker's choosing.
      const dead = table.pick(1, (m) => m.state === 'dead' && m.provenAddress === m.record.address)[0];
      if (dead) this.send(dead.record.address, false, false, undefined, true);
    }
    if (now < this.nextAt) return;
    const regular = pullIntervalMs(config.pushPullIntervalMs, table.liveCount);
    if (this.quickPulls > 0 || this.extraPullDue) {
      this.nextAt = now + this.pullAfterJoin(regular);
      return;
    }
    this.nextAt = now + regular;
    this.pull(this.randomAlive());
  }

  /** One of the pulls after joining (quick, then extra); returns the wait until the next sync. */
  private pullAfterJoin(regular: number): number {
    const unit = this.ctx.config.pushPullAfterJoinMs;
    // The first goes to a seed: it saw the other joiners.
    const fromSeed = this.quickPulls === QUICK_PULLS && this.seeds.length > 0;
    if (this.quickPulls > 0) this.quickPulls--;
    this.pull(fromSeed ? this.seeds[randomInt(this.ctx.random, this.seeds.length)] : this.randomAlive());
    const { version } = this.ctx.table;
    const changed = version !== this.versionAtPull;
    this.versionAtPull = version;
    if (this.quickPulls > 0) return unit;
    // The quick pulls are done, but the table changed since the previous pull: one more.
    this.extraPullDue = changed && this.extraPulls > 0;
    if (this.extraPullDue) {
      this.extraPulls--;
      return unit;
    }
    // Settled here, but members that joined late may not have reached us yet:
    // pull again after 2, 4, 8, ... units, up to the regular interval.
    this.tailGap = this.tailGap === 0 ? 2 * unit : 2 * this.tailGap;
    if (this.tailGap >= regular) return regular;
    this.extraPullDue = true;
    return this.tailGap;
  }

  private randomAlive(): string | undefined {
    return this.ctx.table.pick(1, (m) => m.state === 'alive')[0]?.record.address;
  }

  /**
   * Ask `to` for what we lack: the hashes of all our entries, in
   * buckets by name hash, each bucket one message (about half full, so skew
   * rarely overflows one; an overflowing bucket only gets a few entries twice).
   */
  private pull(to: string | undefined): void {
    if (to === undefined) return;
    const { table, config, overhead } = this.ctx;
    const members = table.all();
    // Our own record rides with the first bucket: a member that has not heard
    // from us yet learns where we are, and may answer us in full.
    const self = table.selfAlive();
    const room = config.maxDatagramBytes - overhead - 1 - self.length - PULL_HEADER;
    const perMessage = Math.min(WIRE_LIMITS.pullHashesMax, Math.floor(room / 4));
    const buckets = Math.min(255, Math.max(1, Math.ceil((members.length * 2) / perMessage)));
    const lists: number[][] = Array.from({ length: buckets }, () => []);
    for (const m of members) lists[this.bucketOf(m, buckets)]!.push(this.hash(m));
    const syncId = this.ctx.nextSeq();
    lists.forEach((hashes, bucket) => {
      const message = encodeMessage({
        type: 'pull',
        syncId,
        bucket,
        buckets,
        hashes: hashes.slice(0, perMessage),
      });
      this.ctx.outbox.sendAlone(to, bucket === 0 ? [self, message] : message);
    });
  }

  /** Answer a pull with our entries in its bucket that the sender does not hold as we do. */
  answerPull(from: string, message: PullMessage): void {
    // Sorted and searched, not a Set: most 32-bit hashes are above V8's small
    // integers, and a Set boxed each one (this line was 7% of a cold start's CPU).
    const have = Uint32Array.from(message.hashes).sort();
    const bucket = this.membersByBucket(message.buckets)[message.bucket] ?? [];
    const differ = bucket.filter((m) => !sortedIncludes(have, this.hash(m)));
    if (differ.length > 0) this.send(from, false, true, differ);
  }

  /**
   * Our members split into `buckets` buckets by name hash, in table order.
   * A pull arrives as one message per bucket: grouping once per table
   * version makes answering one proportional to its bucket, not the table.
   * Pullers whose tables differ in size split differently, so a few splits
   * are kept. A split holds the rows themselves (their state and record are
   * read when answering), so a change of state leaves them as they are; a
   * member added is appended to each (in a cold start of 1,000, splitting the
   * table afresh after every member added cost a pass over the table for
   * nearly every pull answered); only a member removed drops them all.
   */
  private membersByBucket(buckets: number): readonly MemberRow[][] {
    const { table } = this.ctx;
    const rows = table.all();
    if (this.splitsRemoved !== table.rowsRemoved) {
      this.splits.clear();
      this.splitsRemoved = table.rowsRemoved;
    } else if (rows.length > this.splitsLength) {
      for (const [count, lists] of this.splits)
        for (let i = this.splitsLength; i < rows.length; i++)
          lists[this.bucketOf(rows[i]!, count)]!.push(rows[i]!);
    }
    this.splitsLength = rows.length;
    let split = this.splits.get(buckets);
    if (!split) {
      const lists: MemberRow[][] = Array.from({ length: buckets }, () => []);
      for (const m of rows) lists[this.bucketOf(m, buckets)]!.push(m);
      if (this.splits.size >= SPLITS_KEPT) this.splits.delete(this.splits.keys().next().value!);
      this.splits.set(buckets, lists);
      split = lists;
    }
    return split;
  }

  private bucketOf(m: MemberRow, buckets: number): number {
    return m.nameHash % buckets;
  }

  /** The entry's pull hash (cached until the member changes). */
  private hash(m: MemberRow): number {
    if (m.entryHash < 0) m.entryHash = entryHash(m.record, m.state, m.nameHash);
    return m.entryHash;
  }

  /** The entry's encoded bytes, for a push or an answer (cached until the member changes). */
  private bytes(m: MemberRow): Uint8Array {
    // An alive entry carries the member's admission, which may be renewed while
    // its record stays: cached by record and admission, not in the row.
    if (m.state === 'alive') return aliveEntryOf(m.record, this.ctx.table.admissionOf(m.record.name));
    m.entryBytes ??= encodeMemberSyncEntry(this.ctx.table.entry(m));
    return m.entryBytes;
  }

  /** `proven`: to an address that proved itself before (see MembershipEffect.chosen). */
  private send(
    to: string,
    join: boolean,
    response: boolean,
    members: readonly MemberRow[] = this.ctx.table.all(),
    proven = false,
  ): void {
    const { config, overhead } = this.ctx;
    if (join) this.ctx.introduce?.(to);
    const entries = members.map((m) => this.bytes(m));
    const head = { syncId: this.ctx.nextSeq(), join, response };
    const parts = encodePushPull(head, entries, config.maxDatagramBytes - overhead - 1);
    for (const part of parts) {
      if (join) this.ctx.outbox.sendPadded(to, part);
      else this.ctx.outbox.sendAlone(to, part, proven);
    }
  }
}

/**
 * Alive entries' bytes by record object. Verified records are shared by the
 * tables of every peer in a process (RecordVerdictMemo.verified), so in the
 * in-process benches each member's entry is encoded and kept once, not once
 * per peer; records are never changed in place, and an entry is encoded
 * again only when the admission that rides with it was renewed.
 */
const aliveEntryOf = perObjectCache((record: MemberRecord, admission: string | undefined) =>
  encodeMemberSyncEntry(
    admission === undefined ? { state: 'alive', ...record } : { state: 'alive', ...record, admission },
  ),
);

/** Whether ascending `sorted` holds `value`, by binary search. */
function sortedIncludes(sorted: Uint32Array, value: number): boolean {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const at = sorted[mid]!;
    if (at === value) return true;
    if (at < value) lo = mid + 1;
    else hi = mid;
  }
  return false;
}
