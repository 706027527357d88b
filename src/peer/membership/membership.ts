// The SWIM core with Lifeguard refinements. Pure: the shell feeds it decoded
// messages (`receive`), the time (`tick`) and higher layers' requests, and
// every input returns effects: encoded messages to send to an address, and
// events to log or act on. No sockets, no timers, no wall clock; randomness is
// injected and seeded. This file wires the parts and routes inputs to them:
// the table and its merge rules (member-table.ts), probing (probe.ts), what
// goes out (outbox.ts), join and anti-entropy (state-sync.ts).
import { encodeMessage } from '../../protocol/gossip-codec.ts';
import type {
  GossipMessage,
  MemberRecord,
  PullMessage,
  PushPullMessage,
} from '../../protocol/gossip-messages.ts';

import { type Random, randomInt } from '../../random/seeded-random.ts';
import type { MemberAuthority } from '../admission/member-authority.ts';
import { AdmissionExchange } from './admission-exchange.ts';

import { Awareness } from './awareness.ts';
import { isLive, type MemberRow, MemberTable } from './member-table.ts';
import { Outbox } from './outbox.ts';
import { Prober } from './probe.ts';
import { SourceRate } from './source-rate.ts';
import { StateSync } from './state-sync.ts';
import { scaledByAwareness } from './timing.ts';
import type { MemberSnapshot, MembershipConfig, MembershipEffect } from './types.ts';

export interface MembershipOptions {
  self: MemberRecord;
  config: MembershipConfig;
  random: Random;
  now: number;
  /** Bytes each datagram spends outside its messages (envelope, encryption). */
  datagramOverhead: number;
  /** Admitted identities and signed records (docs/security.md); without it membership is open. */
  authority?: MemberAuthority | undefined;
}

const REAP_EVERY_MS = 1000;
/**
 * State-sync requests a source may make per second, in full tables of ours
 * it can draw: a pull message asks for one of its `buckets` (1/buckets of the
 * table), a push (part 0 of a push-pull that is not an answer) for all of it.
 * A count of messages (16 per second) cut a pull of a table at a large bound
 * short: at 3,016 members a full pull is 22-25 buckets sent at once, and a
 * quarter of them went unanswered, their members unlisted until a pull 8-16 s
 * later (the simulation of 3,000 converged in 36 s). Counted in tables, one
 * pull costs the same at any N, and a source splitting its requests finely
 * gains nothing.
 *
 * Answers (push-pull parts marked `response`) are not counted: the limit
 * bounds what a source can make us send, and an answer is answered by
 * nothing. Merging one costs what the same records cost as rumours (up to 255
 * in any datagram, unlimited). Counting them dropped most of a seed's answer
 * to a joiner's pull at N = 1,000 (45 parts arriving together, 16 kept): the
 * cold start's slowest step (docs/scale.md).
 */
const SYNC_TABLES_PER_SECOND = 4;
/**
 * The least a request costs: a finer split (more buckets than a pull of 16,000
 * members makes) is charged as this one, so a source cannot make us split
 * the table anew for each of hundreds of messages a second.
 */
const SYNC_LEAST_COST = 1 / 64;

/** What a state-sync request may draw from us, in tables (see SYNC_TABLES_PER_SECOND). */
function syncCost(message: PullMessage | PushPullMessage): number {
  const share = message.type === 'pull' ? 1 / Math.max(1, message.buckets) : message.part === 0 ? 1 : 0;
  return Math.max(SYNC_LEAST_COST, share);
}

export class Membership {
  private readonly config: MembershipConfig;
  private readonly outbox: Outbox;
  private readonly table: MemberTable;
  private readonly awareness: Awareness;
  private readonly prober: Prober;
  private readonly sync: StateSync;
  private readonly admissions: AdmissionExchange | undefined;
  /** Where the datagram being handled came from (a refused record's admission is asked there). */
  private from: string | undefined;
  private readonly syncLimit = new SourceRate(SYNC_TABLES_PER_SECOND);
  private seq = 0;
  private nextGossipAt: number;
  private nextReapAt: number;
  private lastNow: number;

  constructor(options: MembershipOptions) {
    const { config, random, now } = options;
    this.config = config;
    this.awareness = new Awareness(config.awarenessMax);
    this.outbox = new Outbox({
      config,
      overhead: options.datagramOverhead,
      liveCount: () => this.table.liveCount,
      isProven: (address) => this.table.isMemberAddress(address),
    });
    this.table = new MemberTable(options.self, now, {
      settings: config,
      maxMembers: config.maxMembers,
      queue: this.outbox.queue,
      newsQueue: this.outbox.newsQueue,
      random,
      emit: (event) => this.outbox.emit(event),
      onRefute: () => this.awareness.apply(1),
      onSuspect: (name) => this.prober.suspected(name),
      onEcho: (key, tag) => this.outbox.echo(key, tag),
      authority: options.authority,
      onRefused: (record, reason) => {
        this.outbox.emit({ event: 'record.refused', member: record.name, reason });
        // Perhaps only its admission is missing here (new member, restarted one): ask.
        if ((reason === 'no-admission' || reason === 'wrong-key') && this.from !== undefined)
          this.admissions?.wait(record, this.from, this.lastNow);
      },
      admit: (token, now) => this.admissions?.offer(token, now) ?? false,
    });
    const slowdown = () => this.awareness.score + 1;
    this.admissions =
      options.authority && new AdmissionExchange(options.authority, this.table, this.outbox, slowdown);
    const nextSeq = () => this.nextSeq();
    const parts = { config, table: this.table, random, outbox: this.outbox, nextSeq };
    // The order of these random draws is part of a seed's replay: probe, gossip, sync.
    this.prober = new Prober({ ...parts, awareness: this.awareness }, now);
    // Staggered like the first probe, so peers started together do not beat in step.
    this.nextGossipAt = now + randomInt(random, config.gossipIntervalMs);
    const introduce = this.admissions && ((to: string) => this.admissions?.introduce(to));
    this.sync = new StateSync({ ...parts, overhead: options.datagramOverhead, introduce }, now);
    this.nextReapAt = now + REAP_EVERY_MS;
    this.lastNow = now;
  }

  // ---- queries ---------------------------------------------------------------

  get name(): string {
    return this.table.selfName;
  }

  get self(): MemberSnapshot {
    return this.view(this.table.self);
  }

  /** True once another member is listed alive (see StateSync.markJoined). */
  get joined(): boolean {
    return this.sync.joined;
  }

  get awarenessScore(): number {
    return this.awareness.score;
  }

  members(): MemberSnapshot[] {
    return this.table.all().map((m) => this.view(m));
  }

  member(name: string): MemberSnapshot | undefined {
    const m = this.table.get(name);
    return m && this.view(m);
  }

  /**
   * Whether `address` has proven it is a member (see MemberTable.isMemberAddress).
   * To any other address the shell sends at most what it received from it: no
   * amplification, no reflection onto an address a datagram merely names.
   */
  isProvenMember(address: string): boolean {
    return this.table.isMemberAddress(address);
  }

  /** Whether any known member lives at `address` (so discovery need not join it). */
  knowsAddress(address: string): boolean {
    return this.table.all().some((m) => isLive(m) && m.record.address === address);
  }

  private view(m: MemberRow): MemberSnapshot {
    const { name, address, incarnation, publicKey } = m.record;
    return { name, address, incarnation, publicKey, state: m.state };
  }

  /** When `tick` next has work to do. */
  nextWakeAt(): number {
    if (this.table.leaving) return this.nextReapAt;
    let next = Math.min(this.sync.wakeAt, this.nextReapAt, this.table.nextSuspicionDeadline());
    next = Math.min(next, this.prober.wakeAt());
    if (this.admissions) next = Math.min(next, this.admissions.wakeAt);
    if (this.outbox.hasRumours) next = Math.min(next, this.nextGossipAt);
    return next;
  }

  // ---- inputs ----------------------------------------------------------------

  tick(now: number): MembershipEffect[] {
    if (!this.table.leaving) {
      this.table.setSuspicionStretch(this.awareness.score + 1);
      this.table.expireSuspicions(now);
      this.prober.tick(now);
      if (now >= this.nextGossipAt) {
        this.nextGossipAt = now + scaledByAwareness(this.config.gossipIntervalMs, this.awareness.score);
        this.gossip(now);
      }
      this.sync.tick(now);
      this.lastNow = now;
      this.admissions?.tick(now);
    }
    if (now >= this.nextReapAt) {
      this.nextReapAt = now + REAP_EVERY_MS;
      this.table.reap(now, this.config.deadRetentionMs);
    }
    return this.outbox.flush();
  }

  receive(from: string, messages: readonly GossipMessage[], now: number): MembershipEffect[] {
    if (this.table.leaving) return this.outbox.flush();
    this.from = from;
    this.lastNow = now;
    try {
      const syncs: (PullMessage | PushPullMessage)[] = [];
      for (const message of messages) {
        if (message.type === 'pull' || message.type === 'push-pull') syncs.push(message);
        else this.handle(from, message, now);
      }
      // A datagram from a live member's announced address proves that address
      // (no spoofing on the cluster network: forging packets is raw flooding, out
      // of scope). Rumours first, so a puller's own record, sent with its pull, counts.
      const sender = this.table.memberAt(from);
      if (sender && isLive(sender) && sender.provenAddress !== from) this.table.markProven(sender);
      for (const [i, message] of syncs.entries()) {
        // Peers send each state-sync part alone: more in one datagram is a request for amplification.
        const answer = message.type === 'push-pull' && message.response;
        if (i > 0 || (!answer && !this.syncLimit.allow(from, now, syncCost(message)))) {
          this.outbox.emit({ event: 'message.ignored', reason: 'sync-limit' });
          continue;
        }
        this.handle(from, message, now);
      }
      // Whatever listed another member (a record, an admission a record waited for) joins us.
      this.sync.markJoined(from, now);
    } finally {
      this.from = undefined;
    }
    this.admissions?.sendAnswers();
    this.admissions?.flushSoon(now);
    return this.outbox.flush();
  }

  /** Contact seeds for a full state exchange (see StateSync.join). */
  join(addresses: readonly string[], now: number): MembershipEffect[] {
    this.sync.join(addresses, now);
    return this.outbox.flush();
  }

  /**
   * This peer's address changed (see MemberTable.readdress): announce it with
   * a higher incarnation, and start a gossip round now rather than wait.
   */
  readdress(address: string, now: number): MembershipEffect[] {
    if (this.table.readdress(address, now)) this.nextGossipAt = Math.min(this.nextGossipAt, now);
    return this.outbox.flush();
  }

  /** Leave gracefully: mark ourselves left and tell several members at once. */
  leave(now: number): MembershipEffect[] {
    if (this.table.leaving) return this.outbox.flush();
    const left = this.table.leave(now);
    const targets = this.table.pick(this.config.gossipFanout * 2, isLive);
    for (const target of targets) this.outbox.send(target.record.address, [left]);
    return this.outbox.flush();
  }

  /** Probe this live member next (see Prober.preferNext). */
  probeNext(name: string): MembershipEffect[] {
    this.prober.preferNext(name);
    return this.outbox.flush();
  }

  /**
   * Spread a payload for higher layers (e.g. a leader certificate) by gossip.
   * `piggybackOnly`: never start a gossip round for it (see Outbox.lazyQueue).
   * Throws E_PAYLOAD_TOO_LARGE for a payload no datagram could carry.
   */
  broadcast(
    topic: string,
    key: string,
    payload: Uint8Array,
    options: { piggybackOnly?: boolean } = {},
  ): MembershipEffect[] {
    this.outbox.broadcast(topic, key, payload, options.piggybackOnly ?? false);
    return this.outbox.flush();
  }

  /**
   * Send a higher layer's payload to one live member now, in one datagram
   * (unreliable; with the usual piggybacked rumours). For news one member is
   * known to lack, e.g. the current certificate for a member that just came
   * back from a partition: gossip spends its few transmissions on whoever the
   * next datagrams go to.
   */
  sendTo(name: string, topic: string, key: string, payload: Uint8Array): MembershipEffect[] {
    const member = this.table.get(name);
    if (member && isLive(member) && name !== this.name) {
      this.outbox.send(member.record.address, [encodeMessage({ type: 'broadcast', topic, key, payload })]);
    }
    return this.outbox.flush();
  }

  // ---- message handling --------------------------------------------------------

  private handle(from: string, message: GossipMessage, now: number): void {
    switch (message.type) {
      case 'ping':
      case 'indirect-ping':
      case 'ack':
      case 'nack':
        this.prober.handle(from, message, now);
        return;
      case 'alive':
        this.table.applyAlive(message.member, now, false, message.admission);
        return;
      case 'suspect':
      case 'dead': {
        const self = this.table.self.record;
        if (message.name === this.name && message.incarnation < self.incarnation) {
          // A stale accusation (we already refuted it): answer the sender directly,
          // in case our refutation rumour missed it (lossy links).
          this.outbox.send(from, [this.table.selfAlive()]);
          return;
        }
        if (message.type === 'suspect')
          this.table.applySuspect(message.name, message.incarnation, message.from, now);
        else this.table.applyDead(message.name, message.incarnation, message.from, now);
        if (message.name === this.name && this.table.self.record.incarnation > message.incarnation) {
          // We just refuted: the sender is one who is wrong about us; tell it first-hand
          // rather than leave it to gossip (after a storm of false suspicions, rumours
          // alone left some peers holding live members dead for minutes).
          this.outbox.send(from, [this.table.selfAlive()]);
        }
        return;
      }
      case 'left':
        this.table.applyLeft(message.name, message.incarnation, now);
        return;
      case 'push-pull':
        this.sync.merge(from, message, now);
        return;
      case 'pull':
        this.sync.answerPull(from, message);
        return;
      case 'admission':
        this.admissions?.offer(message.token, now);
        return;
      case 'admission-request':
        this.admissions?.answer(from, message);
        return;
      case 'padding':
        return;
      case 'broadcast': {
        const { topic, key, payload } = message;
        this.outbox.emit({ event: 'broadcast.received', topic, key, payload, from });
        return;
      }
    }
  }

  private nextSeq(): number {
    this.seq = (this.seq + 1) >>> 0;
    return this.seq;
  }

  /** A gossip round: rumours to `gossipFanout` random live (or lately dead) members. */
  private gossip(now: number): void {
    if (!this.outbox.hasRumours) return;
    const targets = this.table.pick(
      this.config.gossipFanout,
      (m) => isLive(m) || (m.state === 'dead' && now - m.stateChangedAt < this.config.gossipToDeadMs),
    );
    this.outbox.gossipTo(targets.map((target) => target.record.address));
  }
}
