// The membership table and SWIM's merge rules: which alive/suspect/dead/left
// claims win (incarnation numbers), when this peer must refute a claim about
// itself, and which changes become rumours. Pure: time comes in as `now`.
// Every claim about a member, from a rumour or a state exchange, enters
// through an apply* method, and the table grows only in `insert`: the places
// for checking a record's signature and for bounding the table.
import { perObjectCache } from '../../platform/per-object-cache.ts';
import { aliveMessage, detachRecord, encodeKeptMessage, encodeMessage } from '../../protocol/gossip-codec.ts';
import {
  type GossipMessage,
  type MemberRecord,
  type MemberState,
  type MemberSyncEntry,
  WIRE_LIMITS,
} from '../../protocol/gossip-messages.ts';

import { type Random, randomInt } from '../../random/seeded-random.ts';
import type { RecordVerdict } from '../admission/admission-book.ts';
import type { MemberAuthority } from '../admission/member-authority.ts';
import type { BroadcastQueue } from './broadcast-queue.ts';
import { nameHash } from './entry-hash.ts';
import type { MembershipEvent } from './membership-events.ts';
import { Suspicion } from './suspicion.ts';
import { type SuspicionSettings, suspicionTiming } from './timing.ts';

/** Local health multiplier (awareness score + 1) from which confirmations stop shortening suspicions (see deadlineOf). */
export const CORRELATED_STRETCH = 4;
/**
 * Live members from which it applies: a storm of confirmations needs many
 * probers sharing one starved host; in a cluster of a few peers, each on its
 * own container, the confirmations are the independent evidence Lifeguard
 * assumes, and a paused peer's delay in declaring a killed leader dead held
 * up agreement after a heal in the chaos run (4.2 s against 4 s).
 */
export const CORRELATED_MIN_MEMBERS = 32;

/** Whether a peer stretching its timeouts by `stretch` among `live` members is starved with the others (see deadlineOf). */
export function starvedTogether(stretch: number, live: number): boolean {
  return stretch >= CORRELATED_STRETCH && live >= CORRELATED_MIN_MEMBERS;
}
/**
 * One member as this peer holds it. Made only by newRow, every field set in
 * one order: rows that gained fields in different orders had different hidden
 * classes, and the loops over the table (pulls, answers) went megamorphic.
 */
export interface MemberRow {
  record: MemberRecord;
  state: MemberState;
  /**
   * When the state last changed, in whole milliseconds: a small integer is held
   * in the row itself, where a fraction would make V8 box every row's time as a
   * number of its own (16 bytes per member in every table).
   */
  stateChangedAt: number;
  suspicion: Suspicion | undefined;
  /** Cached push-pull entry bytes (state + record); cleared on change. */
  entryBytes: Uint8Array | undefined;
  /** entryHash of the entry, for pulls; -1 until computed, and again after a change. */
  entryHash: number;
  /** nameHash(record.name) (names never change). */
  nameHash: number;
  /**
   * The announced address this member proved is its own: a datagram came
   * from it, or it acked our ping there. An address only named in a datagram
   * (a made-up member's) never proves itself, so sending there more than it
   * sent us would reflect traffic onto someone else. Void once it moves.
   */
  provenAddress: string | undefined;
  /** Where it is in the table's list (-1 until inserted): a removal swaps the last row in. */
  index: number;
}

export function newRow(record: MemberRecord, state: MemberState, now: number): MemberRow {
  return {
    record,
    state,
    stateChangedAt: Math.floor(now),
    suspicion: undefined,
    entryBytes: undefined,
    entryHash: -1,
    nameHash: nameHash(record.name),
    provenAddress: undefined,
    index: -1,
  };
}

export interface MemberTableContext {
  settings: SuspicionSettings;
  /** Most members held, this peer included (see insertBounded). */
  maxMembers: number;
  queue: BroadcastQueue;
  /** Join news: rumours that only ride on datagrams sent anyway, bounded (see Outbox.newsQueue). */
  newsQueue: BroadcastQueue;
  random: Random;
  emit(event: MembershipEvent): void;
  /** Called when this peer refutes a claim about itself (Lifeguard raises awareness). */
  onRefute(): void;
  /** Called when another member becomes suspect here. */
  onSuspect(name: string): void;
  /** A rumour told us nothing new: `tag` says what (see BroadcastQueue.heardAgain). */
  onEcho(key: string, tag: string): void;
  /**
   * Identities (docs/security.md §3): with it, an alive record counts only if
   * its member's admission names its key and its signature verifies, and this
   * peer signs its own records. Without it, membership is open (no enclave).
   */
  authority?: MemberAuthority | undefined;
  /** An alive record was refused by the authority (not admitted, wrong key, bad or no signature). */
  onRefused?(record: MemberRecord, reason: Exclude<RecordVerdict, 'ok'>): void;
  /**
   * An admission that came with a record refused for want of it: offer it
   * (verified like any admission); true if it was taken.
   */
  admit?(token: string, now: number): boolean;
}

/** Alive or suspect: still probed, still counted among the n of SWIM's formulas. */
export const isLive = (m: MemberRow): boolean => m.state === 'alive' || m.state === 'suspect';

/**
 * One above `incarnation`, but never above what the wire accepts: a claim at
 * the ceiling (anyone may send one until records are signed) must not leave
 * this peer a refutation every other peer refuses to decode.
 */
export function nextIncarnation(incarnation: number): number {
  return Math.min(incarnation + 1, WIRE_LIMITS.incarnationMax);
}

/**
 * The highest incarnation a suspect, dead or left claim about this peer may
 * make it refute. Such a claim is unsigned, yet one above this peer's own
 * incarnation can be true: a restarted member starts at 1, and the others may
 * remember its earlier life higher up; it outbids them by refuting. But none
 * refutes 2^40 times, so a claim above this line is a lie meant to push it to
 * the wire's ceiling, where it could refute nothing more: ignored, counted. A
 * liar who stays below it raises this peer by one per accusation, which would
 * take 2^40 of them to reach the ceiling.
 */
export const SELF_CLAIM_CEILING = WIRE_LIMITS.incarnationMax - 2 ** 40;

function sameKey(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Alive rumours' bytes by record object, kept for long (a rumour stays queued
 * for seconds). Verified records are shared by every peer's table in a
 * process (RecordVerdictMemo.verified), so in the in-process benches each is
 * encoded once; records are never changed in place.
 */
const aliveMessageOf = perObjectCache((member: MemberRecord, admission: string | undefined) =>
  encodeKeptMessage(aliveMessage(member, admission)),
);

export class MemberTable {
  readonly selfName: string;
  private readonly ctx: MemberTableContext;
  private readonly byName = new Map<string, MemberRow>();
  /** Same members as byName, for O(1) random picks. */
  private readonly list: MemberRow[] = [];
  private live = 0;
  /** When `reap` next has a dead or left member to look at (see reap). */
  private reapDue = Number.POSITIVE_INFINITY;
  /** Members under suspicion, so timers do not scan the whole table. */
  private readonly suspects = new Set<MemberRow>();
  /** Earliest suspicion deadline, recomputed only after suspicions change. */
  private nextDeadline: number | undefined = Number.POSITIVE_INFINITY;
  /** Suspicion timeouts are multiplied by this (see setSuspicionStretch). */
  private stretch = 1;
  leaving = false;
  /** Members by announced address (the last to announce one wins); checked again on use. */
  private readonly byAddress = new Map<string, MemberRow>();
  /** Counts changes to the table (members added or removed, states and records changed). */
  private changes = 0;
  private removals = 0;

  constructor(self: MemberRecord, now: number, ctx: MemberTableContext) {
    this.selfName = self.name;
    this.ctx = ctx;
    const signed = this.signed(self);
    this.insert(newRow(signed, 'alive', now));
    this.broadcast({ type: 'alive', member: signed });
  }

  /** Our own record with our signature (only our key can make one). */
  private signed(record: MemberRecord): MemberRecord {
    const { signature: _old, ...fields } = record;
    return this.ctx.authority ? { ...fields, signature: this.ctx.authority.sign(fields) } : fields;
  }

  get self(): MemberRow {
    return this.byName.get(this.selfName)!;
  }

  /**
   * Members removed so far. Rows are only appended between removals, so a
   * caller that grouped the rows when this was the same needs only the rows
   * past the length it saw.
   */
  get rowsRemoved(): number {
    return this.removals;
  }

  /** Grows with every change: equal values mean nothing changed in between. */
  get version(): number {
    return this.changes;
  }

  get(name: string): MemberRow | undefined {
    return this.byName.get(name);
  }

  all(): readonly MemberRow[] {
    return this.list;
  }

  get size(): number {
    return this.list.length;
  }

  /** Members not dead or left, this peer included: the n of SWIM's formulas. */
  get liveCount(): number {
    return this.live;
  }

  /** Up to k distinct random members other than this peer that pass `accept`. */
  pick(k: number, accept: (m: MemberRow) => boolean): MemberRow[] {
    const chosen = new Set<MemberRow>();
    const n = this.list.length;
    for (let tries = 0; chosen.size < k && tries < 3 * n + 3 * k; tries++) {
      const m = this.list[randomInt(this.ctx.random, n)]!;
      if (m.record.name !== this.selfName && accept(m)) chosen.add(m);
    }
    return [...chosen];
  }

  private insert(member: MemberRow): void {
    this.changes++;
    this.byName.set(member.record.name, member);
    if (member.record.name !== this.selfName) this.byAddress.set(member.record.address, member);
    member.index = this.list.length;
    this.list.push(member);
    if (member.state === 'alive' || member.state === 'suspect') this.live++;
  }

  /**
   * Room for one more member: at the bound, forget the dead or left member
   * that changed longest ago (kept only to spread its news); with none, refuse
   * (counted). One datagram of made-up members fills at most the bound.
   */
  private makeRoom(): boolean {
    if (this.list.length < this.ctx.maxMembers) return true;
    let oldest: MemberRow | undefined;
    for (const m of this.list) {
      if (
        (m.state === 'dead' || m.state === 'left') &&
        (!oldest || m.stateChangedAt < oldest.stateChangedAt)
      ) {
        oldest = m;
      }
    }
    if (oldest) {
      this.remove(oldest.record.name);
      return true;
    }
    this.ctx.emit({ event: 'message.ignored', reason: 'table-full' });
    return false;
  }

  private setState(member: MemberRow, state: MemberState, now: number): void {
    const wasLive = member.state === 'alive' || member.state === 'suspect';
    const isLive = state === 'alive' || state === 'suspect';
    this.live += (isLive ? 1 : 0) - (wasLive ? 1 : 0);
    this.changes++;
    member.state = state;
    member.stateChangedAt = Math.floor(now);
    member.entryBytes = undefined;
    member.entryHash = -1;
    this.nextDeadline = undefined;
    // Its retention is measured from now: the next reap walks the table and finds when.
    if (state === 'dead' || state === 'left') this.reapDue = Math.min(this.reapDue, now);
    if (state === 'suspect') this.suspects.add(member);
    else {
      member.suspicion = undefined;
      this.suspects.delete(member);
    }
  }

  /** The member announced at `address`, if any (this peer excluded). */
  memberAt(address: string): MemberRow | undefined {
    const member = this.byAddress.get(address);
    if (!member) return undefined;
    if (this.byName.get(member.record.name) === member && member.record.address === address) return member;
    this.byAddress.delete(address);
    return undefined;
  }

  /** The member showed it is at its announced address (see MemberRow.provenAddress). */
  markProven(member: MemberRow): void {
    member.provenAddress = member.record.address;
  }

  /**
   * The admission check for "may this address draw more bytes than it sent":
   * a member (in any state: a dead one may be alive and must hear it so, to
   * refute) announced it. Every claim enters the table through the apply*
   * methods, where signed records (issue 13, part G) admit only admitted
   * members; until then a made-up member's address passes too (until it is
   * reaped), while an address a datagram only names (an indirect probe's
   * target, a stranger's pulls) never does. Stricter interim rules were
   * measured: "a member that answered our ping there" left 100 peers started
   * at once unconverged after 26 s; "a live member" delayed a failover by 0.5 s.
   */
  isMemberAddress(address: string): boolean {
    const member = this.memberAt(address);
    return !!member;
  }

  remove(name: string): void {
    const member = this.byName.get(name);
    if (member === undefined || name === this.selfName) return;
    const at = member.index;
    if (this.byAddress.get(member.record.address) === member) this.byAddress.delete(member.record.address);
    const last = this.list.pop()!;
    if (last !== member) {
      this.list[at] = last;
      last.index = at;
    }
    member.index = -1;
    this.byName.delete(name);
    this.changes++;
    this.removals++;
    this.suspects.delete(member);
    this.nextDeadline = undefined;
    if (member.state === 'alive' || member.state === 'suspect') this.live--;
    this.ctx.emit({ event: 'member.removed', member: name });
  }

  /**
   * Queue a rumour about a member. `lazy`: only the news of a member nobody
   * knew before rides on datagrams sent anyway (probes, acks) instead of
   * starting gossip rounds: after a mass start a thousand such rumours would
   * otherwise keep every peer gossiping at its full rate for seconds, while
   * the joiners' pulls carry the same news in bulk. Failures, refutations and
   * returns stay urgent.
   */
  private broadcast(
    message: GossipMessage & { type: 'alive' | 'suspect' | 'dead' | 'left' },
    lazy = false,
  ): void {
    const [name, incarnation] =
      message.type === 'alive'
        ? [message.member.name, message.member.incarnation]
        : [message.name, message.incarnation];
    const key = `member:${name}`;
    const bytes =
      message.type === 'alive'
        ? aliveMessageOf(message.member, this.admissionOf(message.member.name))
        : encodeMessage(message);
    const tag = `${message.type}:${incarnation}`;
    if (lazy) {
      this.ctx.newsQueue.push(key, bytes, tag);
      return;
    }
    this.ctx.newsQueue.drop(key);
    this.ctx.queue.push(key, bytes, tag);
  }

  private echo(type: MemberState, name: string, incarnation: number): void {
    this.ctx.onEcho(`member:${name}`, `${type}:${incarnation}`);
  }

  /**
   * The admission this peer holds for `name` (its own for itself), to send
   * beside that member's record: a peer that lacks it need not ask.
   */
  admissionOf(name: string): string | undefined {
    const authority = this.ctx.authority;
    if (!authority) return undefined;
    return name === this.selfName ? authority.own() : authority.token(name);
  }

  /** Our own record as an alive message, with our admission (encoded once per record and admission). */
  selfAlive(): Uint8Array {
    return aliveMessageOf(this.self.record, this.admissionOf(this.selfName));
  }

  entry(member: MemberRow): MemberSyncEntry {
    return { state: member.state, ...member.record };
  }

  // ---- merge rules ----------------------------------------------------------

  /**
   * An alive claim. `quiet` merges without re-gossiping (anti-entropy entries
   * the sender already spreads), except changes that others must hear about.
   */
  applyAlive(record: MemberRecord, now: number, quiet = false, admission?: string): void {
    const authority = this.ctx.authority;
    const current = this.byName.get(record.name);
    let verified: MemberRecord | undefined;
    if (authority) {
      // A record no newer than ours changes nothing, so it is not verified (a
      // signature check costs more than all the rest): only its echo counts.
      const known = record.name === this.selfName ? this.self : current;
      if (known && record.incarnation <= known.record.incarnation) {
        const echo =
          !quiet &&
          record.name !== this.selfName &&
          record.incarnation === known.record.incarnation &&
          known.state === 'alive' &&
          sameKey(record.publicKey, known.record.publicKey);
        if (echo) this.echo('alive', record.name, record.incarnation);
        return;
      }
      // News, also about ourselves: a forged record (not signed by the admitted
      // key) is refused before it can change anything or draw a refutation.
      const checked = authority.check(record);
      if (checked.verdict !== 'ok') {
        // Its admission came with it (gossip-messages.ts MemberSyncEntry.admission):
        // take that and judge the record again. Whatever the admission, the
        // record must still be signed by the key it names.
        const admissionMissing = checked.verdict === 'no-admission' || checked.verdict === 'wrong-key';
        if (admissionMissing && admission !== undefined && this.ctx.admit?.(admission, now)) {
          this.applyAlive(record, now, quiet);
          return;
        }
        this.ctx.onRefused?.(record, checked.verdict);
        return;
      }
      verified = checked.record;
    }
    if (record.name === this.selfName) {
      const self = this.self.record;
      if (record.incarnation < self.incarnation) return;
      const same = sameKey(record.publicKey, self.publicKey) && record.address === self.address;
      if (record.incarnation === self.incarnation && same) return;
      this.refute(record.incarnation, 'alive', now);
      return;
    }
    // Decoded keys are views into a datagram: keep the copy the signature check
    // kept when the record verified, or else a copy (only of what is kept).
    const keep = (): MemberRecord => verified ?? detachRecord(record);
    if (!current) {
      if (!this.makeRoom()) return;
      const stored = keep();
      this.insert(newRow(stored, 'alive', now));
      this.ctx.emit({
        event: 'member.joined',
        member: record.name,
        address: record.address,
        incarnation: record.incarnation,
      });
      if (!quiet) this.broadcast({ type: 'alive', member: stored }, true);
      return;
    }
    if (record.incarnation <= current.record.incarnation) {
      if (
        record.incarnation === current.record.incarnation &&
        !sameKey(record.publicKey, current.record.publicKey)
      ) {
        this.ctx.emit({
          event: 'member.conflict',
          member: record.name,
          address: record.address,
          incarnation: record.incarnation,
        });
      } else if (!quiet && record.incarnation === current.record.incarnation && current.state === 'alive') {
        this.echo('alive', record.name, record.incarnation);
      }
      return;
    }
    const stored = keep();
    const previous = current.state;
    const moved = record.address !== current.record.address;
    current.record = stored;
    if (moved) this.byAddress.set(stored.address, current);
    this.setState(current, 'alive', now);
    const event = { member: record.name, incarnation: record.incarnation };
    if (previous === 'dead' || previous === 'left') {
      this.ctx.emit({ event: 'member.joined', address: record.address, ...event });
    } else if (previous === 'suspect') {
      this.ctx.emit({ event: 'member.alive', ...event });
    } else if (moved) {
      this.ctx.emit({ event: 'member.updated', address: record.address, ...event });
    }
    // A newer incarnation is news even through anti-entropy: it may be a refutation.
    this.broadcast({ type: 'alive', member: stored });
  }

  /**
   * A suspicion of `name` by `from`. `hearsay`: read in another member's table
   * (anti-entropy), not said by the one who suspects: this peer holds the
   * member suspect and runs the timer, but neither spreads it nor counts it as
   * a confirmation, since it is no evidence of its own. (memberlist spreads it
   * as this peer's own suspicion: after a cold start on a starved host, every
   * pull answer listing suspects then started as many new rumours, each a
   * fresh "independent" confirmation at every peer, and suspicions outnumbered
   * everything else on the wire.)
   */
  applySuspect(name: string, incarnation: number, from: string, now: number, hearsay = false): void {
    const member = this.byName.get(name);
    if (!member || !this.claimable(member, incarnation)) return;
    if (member.state === 'dead' || member.state === 'left') return;
    if (name === this.selfName) {
      if (!this.leaving) this.refute(incarnation, 'suspect', now);
      return;
    }
    if (hearsay && member.state === 'suspect') return;
    if (member.state === 'suspect' && member.suspicion) {
      const suspicion = member.suspicion;
      if (suspicion.confirm(from)) {
        this.nextDeadline = undefined;
        this.broadcast({ type: 'suspect', name, incarnation, from });
      } else if (suspicion.unspread && from === suspicion.suspector) {
        // Held from the suspector's pull answer: its own rumour is passed on (it confirms nothing).
        suspicion.unspread = false;
        this.broadcast({ type: 'suspect', name, incarnation, from });
      } else if (from !== this.selfName && incarnation === member.record.incarnation) {
        this.echo('suspect', name, incarnation);
      }
      return;
    }
    this.setState(member, 'suspect', now);
    member.suspicion = new Suspicion(from, now, suspicionTiming(this.live, this.ctx.settings));
    member.suspicion.unspread = hearsay;
    this.nextDeadline = undefined;
    this.ctx.emit({ event: 'member.suspect', member: name, incarnation, from });
    if (!hearsay) this.broadcast({ type: 'suspect', name, incarnation, from });
    this.ctx.onSuspect(name);
  }

  applyDead(name: string, incarnation: number, from: string, now: number): void {
    const member = this.byName.get(name);
    if (!member || !this.claimable(member, incarnation)) return;
    if (member.state === 'dead' || member.state === 'left') {
      if (member.state === 'dead' && from !== this.selfName && incarnation === member.record.incarnation)
        this.echo('dead', name, incarnation);
      return;
    }
    if (name === this.selfName) {
      if (!this.leaving) this.refute(incarnation, 'dead', now);
      return;
    }
    this.setState(member, 'dead', now);
    this.ctx.emit({ event: 'member.dead', member: name, incarnation, from });
    this.broadcast({ type: 'dead', name, incarnation, from });
  }

  applyLeft(name: string, incarnation: number, now: number): void {
    const member = this.byName.get(name);
    if (!member || !this.claimable(member, incarnation)) return;
    if (member.state === 'left') {
      if (incarnation === member.record.incarnation) this.echo('left', name, incarnation);
      return;
    }
    if (name === this.selfName) {
      if (!this.leaving) this.refute(incarnation, 'left', now);
      return;
    }
    this.setState(member, 'left', now);
    this.ctx.emit({ event: 'member.left', member: name, incarnation });
    this.broadcast({ type: 'left', name, incarnation });
  }

  /**
   * Whether a suspect, dead or left claim at `incarnation` is judged at all.
   * About another member: only at the incarnation of the record it signed
   * last, as this peer holds it. Older is stale. Newer is nothing this peer
   * can check, since only the member raises its incarnation (a signed alive
   * record); taken at its word, one such claim at the ceiling raised the
   * member everywhere beyond any refutation, and it was declared dead.
   * Ignored and counted; the rumour comes round again once the record it
   * answers has. About this peer: up to SELF_CLAIM_CEILING.
   */
  private claimable(member: MemberRow, incarnation: number): boolean {
    const known = member.record.incarnation;
    if (incarnation < known) return false;
    const self = member.record.name === this.selfName;
    if (self ? incarnation <= SELF_CLAIM_CEILING : incarnation === known) return true;
    this.ctx.emit({ event: 'message.ignored', reason: 'unsigned-incarnation' });
    return false;
  }

  /** Announce this peer's departure. */
  leave(now: number): Uint8Array {
    this.leaving = true;
    const self = this.self;
    this.setState(self, 'left', now);
    const message = { type: 'left', name: this.selfName, incarnation: self.record.incarnation } as const;
    this.broadcast(message);
    return encodeMessage(message);
  }

  /**
   * This peer is now reachable at `address` (its container came back on a
   * network with another IP): a higher incarnation carries the new address,
   * and others take it as any newer alive claim. Returns whether it changed.
   */
  readdress(address: string, now: number): boolean {
    const self = this.self;
    if (this.leaving || self.record.address === address) return false;
    const incarnation = nextIncarnation(self.record.incarnation);
    this.announceSelf({ ...self.record, address, incarnation }, now);
    this.ctx.emit({ event: 'self.readdressed', address, incarnation });
    return true;
  }

  /** Outlive a claim about ourselves: a higher incarnation, gossiped as alive. */
  private refute(
    accusedIncarnation: number,
    accusation: 'alive' | 'suspect' | 'dead' | 'left',
    now: number,
  ): void {
    const incarnation = nextIncarnation(Math.max(this.self.record.incarnation, accusedIncarnation));
    this.announceSelf({ ...this.self.record, incarnation }, now);
    this.ctx.onRefute();
    this.ctx.emit({ event: 'self.refuted', incarnation, accusation });
  }

  /** Take a newer record of ourselves and gossip it as alive. */
  private announceSelf(unsigned: MemberRecord, now: number): void {
    const self = this.self;
    const record = this.signed(unsigned);
    self.record = record;
    self.entryBytes = undefined;
    self.entryHash = -1;
    self.stateChangedAt = Math.floor(now);
    this.changes++;
    this.broadcast({ type: 'alive', member: record });
  }

  /**
   * Stretch every suspicion's timeout by `factor` (local health score + 1): a
   * peer whose own timers run late gives suspects longer to refute, since
   * its clock, not theirs, may be what is slow.
   */
  setSuspicionStretch(factor: number): void {
    if (factor === this.stretch) return;
    this.stretch = factor;
    this.nextDeadline = undefined;
    if (starvedTogether(factor, this.live))
      for (const member of this.suspects) if (member.suspicion) member.suspicion.discounted = true;
  }

  /**
   * A suspicion's deadline, stretched by this peer's local health. A peer at
   * CORRELATED_STRETCH or more also ignores confirmations: Lifeguard shortens
   * a suspicion as independent peers confirm it, but when this peer is this
   * starved, those confirming are likely starved by the same cause (a shared
   * host or CPU), and their failed probes are not independent evidence. On
   * loopback, 1,000 peers on 2 cores had every suspicion confirmed at once and
   * timed out after 6.4 s (0.8 s at the minimum, x8), faster than refutations
   * could cross loop turns of seconds: 100,000 false dead marks in a minute.
   * Holding to the unconfirmed timeout there: 0 to 4. A suspicion held while
   * starved keeps that rule after this peer recovers (Suspicion.discounted):
   * its confirmations came while starved, and when local health fell back at
   * the end of that cold start, every such suspicion dropped to its confirmed
   * minimum at once and expired, while the suspects' refutations were still
   * crossing the others' backlogs (hundreds to thousands of false dead marks).
   */
  private deadlineOf(suspicion: Suspicion): number {
    if (starvedTogether(this.stretch, this.live)) suspicion.discounted = true;
    const end = suspicion.discounted ? suspicion.unconfirmedDeadline() : suspicion.deadline();
    return suspicion.startedAt + (end - suspicion.startedAt) * this.stretch;
  }

  /** Suspicions whose (Lifeguard-shortened) timeout has passed become dead. */
  expireSuspicions(now: number): void {
    for (const member of [...this.suspects]) {
      if (member.suspicion && this.deadlineOf(member.suspicion) <= now) {
        this.applyDead(member.record.name, member.record.incarnation, this.selfName, now);
      }
    }
    // Deadlines depend on the live count too (deadlineOf), which changes
    // without a suspicion changing: a cached one that came due without
    // expiring anything would wake this peer again at once, for ever.
    this.nextDeadline = undefined;
  }

  /** Earliest suspicion deadline, for the shell's timer. */
  nextSuspicionDeadline(): number {
    if (this.nextDeadline === undefined) {
      let next = Number.POSITIVE_INFINITY;
      for (const member of this.suspects) {
        if (member.suspicion) next = Math.min(next, this.deadlineOf(member.suspicion));
      }
      this.nextDeadline = next;
    }
    return this.nextDeadline;
  }

  /** Forget dead and left members after `retentionMs` (their rumours are long spread). */
  reap(now: number, retentionMs: number): void {
    // Walk the table only when some dead or left member is due (a walk every
    // second at N = 1,000 was a table walk per peer per second, for nothing).
    if (now < this.reapDue) return;
    this.reapDue = Number.POSITIVE_INFINITY;
    for (let i = this.list.length - 1; i >= 0; i--) {
      const m = this.list[i]!;
      if (m.state !== 'dead' && m.state !== 'left') continue;
      if (now - m.stateChangedAt >= retentionMs) this.remove(m.record.name);
      else this.reapDue = Math.min(this.reapDue, m.stateChangedAt + retentionMs);
    }
  }
}
