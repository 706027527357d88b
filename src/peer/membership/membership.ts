// The SWIM core with Lifeguard refinements. Pure: the shell feeds it decoded
// messages (`receive`) and the time (`tick`), and it returns effects: encoded
// messages to send to an address, and events to log or act on. No sockets, no
// timers, no wall clock; randomness is injected and seeded.
import { EnclaveElectError } from '../../errors.ts';
import { encodeMessage } from '../../protocol/gossip-codec.ts';
import type { GossipMessage, MemberRecord, MemberState } from '../../protocol/gossip-messages.ts';
import { type Random, randomInt, shuffle } from '../../random/seeded-random.ts';
import { Awareness } from './awareness.ts';
import { BroadcastQueue } from './broadcast-queue.ts';
import { type Member, MemberTable } from './member-table.ts';
import type { MembershipEvent } from './membership-events.ts';
import { StateSync } from './state-sync.ts';
import { retransmitLimit, scaledByAwareness } from './timing.ts';

export interface MembershipConfig {
  probeIntervalMs: number;
  probeTimeoutMs: number;
  indirectChecks: number;
  suspicionMult: number;
  suspicionMaxMult: number;
  gossipIntervalMs: number;
  gossipFanout: number;
  retransmitMult: number;
  pushPullIntervalMs: number;
  /** First anti-entropy exchange after joining; doubles until the regular interval. */
  pushPullAfterJoinMs: number;
  gossipToDeadMs: number;
  deadRetentionMs: number;
  awarenessMax: number;
  maxDatagramBytes: number;
}

export type MembershipEffect =
  | { type: 'send'; to: string; messages: Uint8Array[] }
  | { type: 'event'; event: MembershipEvent };

export interface MemberView {
  name: string;
  address: string;
  state: MemberState;
  incarnation: number;
  publicKey: Uint8Array;
}

export interface MembershipOptions {
  self: MemberRecord;
  config: MembershipConfig;
  random: Random;
  now: number;
  /** Bytes each datagram spends outside its messages (envelope, encryption). */
  datagramOverhead: number;
}

interface Probe {
  seq: number;
  target: Member;
  directDeadline: number;
  finalDeadline: number;
  indirectSent: boolean;
  expectedNacks: number;
  nacks: number;
  /** Started well after it was due (see runProbe). */
  late: boolean;
}

interface Relay {
  requester: string;
  seq: number;
  deadline: number;
}

const isLive = (m: Member) => m.state === 'alive' || m.state === 'suspect';
const REAP_EVERY_MS = 1000;
const MAX_MESSAGES = 255;
/** Rumours queued beyond what one datagram carries (about 20 member rumours). */
const ECHO_BACKLOG = 24;

export class Membership {
  private readonly config: MembershipConfig;
  private readonly random: Random;
  private readonly overhead: number;
  private readonly queue = new BroadcastQueue();
  /**
   * Rumours that ride only on datagrams sent anyway (probes, acks, other
   * rumours) and never start a gossip round: periodic payloads such as lease
   * renewals, which would otherwise keep gossip rounds running forever.
   */
  private readonly lazyQueue = new BroadcastQueue();
  private readonly table: MemberTable;
  private readonly awareness: Awareness;
  private out: MembershipEffect[] = [];

  private seq = 0;
  private probe: Probe | undefined;
  private probeOrder: string[] = [];
  /**
   * Suspects heard of from others, probed next: our ping carries the suspicion
   * (buddy system) so a live suspect refutes to us first-hand, and a dead one
   * gathers independent confirmations sooner.
   */
  private urgentProbes: string[] = [];
  /** Live members a higher layer asked to be probed next (see probeNext). */
  private preferredProbes: string[] = [];
  private probeIndex = 0;
  private readonly relays = new Map<number, Relay>();
  private nextProbeAt: number;
  private nextGossipAt: number;
  private nextReapAt: number;
  private readonly sync: StateSync;

  constructor(options: MembershipOptions) {
    this.config = options.config;
    this.random = options.random;
    this.overhead = options.datagramOverhead;
    this.awareness = new Awareness(options.config.awarenessMax);
    const now = options.now;
    this.table = new MemberTable(options.self, now, {
      settings: options.config,
      queue: this.queue,
      lazyQueue: this.lazyQueue,
      random: this.random,
      emit: (event) => this.out.push({ type: 'event', event }),
      onRefute: () => this.awareness.apply(1),
      onSuspect: (name) => this.urgentProbes.push(name),
      onEcho: (key, tag) => this.echo(key, tag),
    });
    // Stagger the first timers so peers started together do not beat in step.
    this.nextProbeAt = now + randomInt(this.random, options.config.probeIntervalMs);
    this.nextGossipAt = now + randomInt(this.random, options.config.gossipIntervalMs);
    this.sync = new StateSync(
      {
        config: options.config,
        table: this.table,
        random: this.random,
        overhead: this.overhead,
        out: (effect) => this.out.push(effect),
        nextId: () => this.nextSeq(),
      },
      now,
    );
    this.nextReapAt = now + REAP_EVERY_MS;
  }

  // ---- queries ---------------------------------------------------------------

  get name(): string {
    return this.table.selfName;
  }

  get self(): MemberView {
    return this.view(this.table.self);
  }

  /** True once a seed answered or another member is known alive. */
  get joined(): boolean {
    return this.sync.joined;
  }

  get awarenessScore(): number {
    return this.awareness.score;
  }

  get pendingBroadcasts(): number {
    return this.queue.size + this.lazyQueue.size;
  }

  members(): MemberView[] {
    return this.table.all().map((m) => this.view(m));
  }

  member(name: string): MemberView | undefined {
    const m = this.table.get(name);
    return m && this.view(m);
  }

  /** Whether any known member lives at `address` (so discovery need not join it). */
  knowsAddress(address: string): boolean {
    return this.table.all().some((m) => isLive(m) && m.record.address === address);
  }

  private view(m: Member): MemberView {
    const { name, address, incarnation, publicKey } = m.record;
    return { name, address, incarnation, publicKey, state: m.state };
  }

  /** When `tick` next has work to do. */
  nextWakeAt(): number {
    if (this.table.leaving) return this.nextReapAt;
    let next = Math.min(this.sync.wakeAt, this.nextReapAt, this.table.nextSuspicionDeadline());
    if (this.probe) {
      next = Math.min(next, this.probe.indirectSent ? this.probe.finalDeadline : this.probe.directDeadline);
    } else {
      next = Math.min(next, this.nextProbeAt);
    }
    if (this.queue.size > 0) next = Math.min(next, this.nextGossipAt);
    for (const relay of this.relays.values()) next = Math.min(next, relay.deadline);
    return next;
  }

  // ---- inputs ----------------------------------------------------------------

  tick(now: number): MembershipEffect[] {
    if (!this.table.leaving) {
      this.table.setSuspicionStretch(this.awareness.score + 1);
      this.table.expireSuspicions(now);
      this.runProbe(now);
      this.expireRelays(now);
      if (now >= this.nextGossipAt) {
        this.nextGossipAt = now + scaledByAwareness(this.config.gossipIntervalMs, this.awareness.score);
        this.gossip(now);
      }
      this.sync.tick(now);
    }
    if (now >= this.nextReapAt) {
      this.nextReapAt = now + REAP_EVERY_MS;
      this.table.reap(now, this.config.deadRetentionMs);
    }
    return this.flush();
  }

  receive(from: string, messages: readonly GossipMessage[], now: number): MembershipEffect[] {
    if (this.table.leaving) return this.flush();
    for (const message of messages) this.handle(from, message, now);
    return this.flush();
  }

  /** Contact seeds for a full state exchange (see StateSync.join). */
  join(addresses: readonly string[], now: number): MembershipEffect[] {
    this.sync.join(addresses, now);
    return this.flush();
  }

  /**
   * This peer's address changed (see MemberTable.readdress): announce it with
   * a higher incarnation, and start a gossip round now rather than wait.
   */
  readdress(address: string, now: number): MembershipEffect[] {
    if (this.table.readdress(address, now)) this.nextGossipAt = Math.min(this.nextGossipAt, now);
    return this.flush();
  }

  /** Leave gracefully: mark ourselves left and tell several members at once. */
  leave(now: number): MembershipEffect[] {
    if (this.table.leaving) return this.flush();
    const left = this.table.leave(now);
    const targets = this.table.pick(this.config.gossipFanout * 2, isLive);
    for (const target of targets) this.send(target.record.address, [left]);
    return this.flush();
  }

  /**
   * Probe this live member next (before the round-robin order), so what is
   * queued for piggybacking reaches it within one probe interval. A leader
   * uses it to bring its renewals to the followers that ask the enclave first.
   */
  probeNext(name: string): void {
    if (name === this.name || this.preferredProbes.includes(name) || this.preferredProbes.length >= 4) return;
    this.preferredProbes.push(name);
  }

  /**
   * Spread a payload for higher layers (e.g. a leader certificate) by gossip.
   * `piggybackOnly`: never start a gossip round for it (see lazyQueue).
   */
  broadcast(
    topic: string,
    key: string,
    payload: Uint8Array,
    options: { piggybackOnly?: boolean } = {},
  ): void {
    const message = encodeMessage({ type: 'broadcast', topic, key, payload });
    const room = this.config.maxDatagramBytes - this.overhead - 1;
    if (message.length > room) {
      // It could never be sent: refuse now rather than let it sit in the queue.
      throw new EnclaveElectError(
        'E_PAYLOAD_TOO_LARGE',
        `broadcast '${topic}/${key}' needs ${message.length} bytes; a datagram has room for ${room}`,
      );
    }
    (options.piggybackOnly ? this.lazyQueue : this.queue).push(`broadcast:${topic}:${key}`, message);
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
      this.send(member.record.address, [encodeMessage({ type: 'broadcast', topic, key, payload })]);
    }
    return this.flush();
  }

  private flush(): MembershipEffect[] {
    const effects = this.out;
    this.out = [];
    return effects;
  }

  // ---- message handling --------------------------------------------------------

  private handle(from: string, message: GossipMessage, now: number): void {
    switch (message.type) {
      case 'ping': {
        if (message.target !== this.name) {
          this.out.push({ type: 'event', event: { event: 'message.ignored', reason: 'wrong-target' } });
          return;
        }
        const reply: Uint8Array[] = [encodeMessage({ type: 'ack', seq: message.seq })];
        // A prober we think suspect or dead hears it at once, so it can refute.
        const source = this.table.get(message.source);
        if (source && (source.state === 'suspect' || source.state === 'dead')) {
          const { name, incarnation } = source.record;
          reply.push(encodeMessage({ type: source.state, name, incarnation, from: this.name }));
        }
        this.send(from, reply);
        return;
      }
      case 'indirect-ping': {
        const seq = this.nextSeq();
        this.relays.set(seq, {
          requester: from,
          seq: message.seq,
          deadline: now + this.config.probeTimeoutMs,
        });
        this.send(message.targetAddress, [
          encodeMessage({ type: 'ping', seq, target: message.target, source: this.name }),
        ]);
        return;
      }
      case 'ack': {
        const relay = this.relays.get(message.seq);
        if (relay) {
          this.relays.delete(message.seq);
          this.send(relay.requester, [encodeMessage({ type: 'ack', seq: relay.seq })]);
          return;
        }
        if (this.probe && this.probe.seq === message.seq) {
          // A probe that started late proves nothing about our health.
          if (!this.probe.late) this.awareness.apply(-1);
          this.probe = undefined;
        }
        return;
      }
      case 'nack':
        if (this.probe && this.probe.seq === message.seq) this.probe.nacks++;
        return;
      case 'alive':
        this.table.applyAlive(message.member, now);
        this.sync.markJoined(from, now, false);
        return;
      case 'suspect':
      case 'dead': {
        const self = this.table.self.record;
        if (message.name === this.name && message.incarnation < self.incarnation) {
          // A stale accusation (we already refuted it): answer the sender directly,
          // in case our refutation rumour missed it (lossy links).
          this.send(from, [encodeMessage({ type: 'alive', member: self })]);
          return;
        }
        if (message.type === 'suspect')
          this.table.applySuspect(message.name, message.incarnation, message.from, now);
        else this.table.applyDead(message.name, message.incarnation, message.from, now);
        if (message.name === this.name && this.table.self.record.incarnation > message.incarnation) {
          // We just refuted: the sender is one who is wrong about us; tell it first-hand
          // rather than leave it to gossip (after a storm of false suspicions, rumours
          // alone left some peers holding live members dead for minutes).
          this.send(from, [encodeMessage({ type: 'alive', member: this.table.self.record })]);
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
      case 'broadcast':
        this.out.push({
          type: 'event',
          event: {
            event: 'broadcast.received',
            topic: message.topic,
            key: message.key,
            payload: message.payload,
            from,
          },
        });
        return;
    }
  }

  // ---- probing -------------------------------------------------------------------

  private nextSeq(): number {
    this.seq = (this.seq + 1) >>> 0;
    return this.seq;
  }

  private nextProbeTarget(): Member | undefined {
    while (this.urgentProbes.length > 0) {
      const member = this.table.get(this.urgentProbes.shift()!);
      if (member && member.state === 'suspect') return member;
    }
    while (this.preferredProbes.length > 0) {
      const member = this.table.get(this.preferredProbes.shift()!);
      if (member && isLive(member) && member.record.name !== this.name) return member;
    }
    for (let attempts = 0; attempts < 2; attempts++) {
      while (this.probeIndex < this.probeOrder.length) {
        const member = this.table.get(this.probeOrder[this.probeIndex++]!);
        if (member && isLive(member) && member.record.name !== this.name) return member;
      }
      // End of a round: a fresh shuffled order of everyone live (memberlist).
      this.probeOrder = shuffle(
        this.random,
        this.table
          .all()
          .filter((m) => isLive(m) && m.record.name !== this.name)
          .map((m) => m.record.name),
      );
      this.probeIndex = 0;
    }
    return undefined;
  }

  private runProbe(now: number): void {
    const probe = this.probe;
    if (probe && !probe.indirectSent && now >= probe.directDeadline) {
      probe.indirectSent = true;
      const helpers = this.table.pick(
        this.config.indirectChecks,
        (m) => m.state === 'alive' && m !== probe.target,
      );
      probe.expectedNacks = helpers.length;
      const { name, address } = probe.target.record;
      const request = encodeMessage({
        type: 'indirect-ping',
        seq: probe.seq,
        target: name,
        targetAddress: address,
        source: this.name,
      });
      for (const helper of helpers) this.send(helper.record.address, [request]);
    }
    if (probe && now >= probe.finalDeadline) {
      this.probe = undefined;
      const missedNacks = probe.expectedNacks > 0 ? probe.expectedNacks - probe.nacks : 1;
      this.awareness.apply(Math.max(0, missedNacks));
      const target = probe.target;
      this.out.push({
        type: 'event',
        event: {
          event: 'probe.failed',
          member: target.record.name,
          nacks: probe.nacks,
          expectedNacks: probe.expectedNacks,
        },
      });
      if (isLive(target) && this.table.get(target.record.name) === target) {
        this.table.applySuspect(target.record.name, target.record.incarnation, this.name, now);
      }
    }
    if (!this.probe && now >= this.nextProbeAt) {
      // Woken this late for a probe: our own timing is off (a starved event loop),
      // and so would our verdicts on others be. Lifeguard's local health rises.
      const late = now - this.nextProbeAt > this.config.probeTimeoutMs / 2;
      if (late) this.awareness.apply(1);
      const score = this.awareness.score;
      this.nextProbeAt = now + scaledByAwareness(this.config.probeIntervalMs, score);
      const target = this.nextProbeTarget();
      if (!target) return;
      const seq = this.nextSeq();
      this.probe = {
        seq,
        target,
        directDeadline: now + scaledByAwareness(this.config.probeTimeoutMs, score),
        finalDeadline: this.nextProbeAt,
        indirectSent: false,
        expectedNacks: 0,
        nacks: 0,
        late,
      };
      const ping = [encodeMessage({ type: 'ping', seq, target: target.record.name, source: this.name })];
      if (target.state === 'suspect') {
        // Lifeguard's buddy system: tell a suspect directly, so it can refute at once.
        const { name, incarnation } = target.record;
        ping.push(encodeMessage({ type: 'suspect', name, incarnation, from: this.name }));
      }
      this.send(target.record.address, ping);
    }
  }

  private expireRelays(now: number): void {
    for (const [seq, relay] of this.relays) {
      if (relay.deadline > now) continue;
      this.relays.delete(seq);
      this.send(relay.requester, [encodeMessage({ type: 'nack', seq: relay.seq })]);
    }
  }

  // ---- dissemination ---------------------------------------------------------------

  private gossip(now: number): void {
    if (this.queue.size === 0) return;
    const targets = this.table.pick(
      this.config.gossipFanout,
      (m) => isLive(m) || (m.state === 'dead' && now - m.stateChangedAt < this.config.gossipToDeadMs),
    );
    for (const target of targets) {
      if (this.queue.size === 0) break;
      this.send(target.record.address, [], true);
    }
  }

  /** One datagram: the given messages, then as many queued rumours as fit. */
  private send(to: string, messages: Uint8Array[], onlyIfRumours = false): void {
    let used = this.overhead;
    for (const m of messages) used += m.length;
    const room = MAX_MESSAGES - messages.length;
    const rumours = room > 0 ? this.queue.take(this.config.maxDatagramBytes - used, this.limit()) : [];
    if (onlyIfRumours && rumours.length === 0) return;
    if (rumours.length < room) {
      for (const r of rumours) used += r.length;
      rumours.push(...this.lazyQueue.take(this.config.maxDatagramBytes - used, this.limit()));
    }
    this.out.push({ type: 'send', to, messages: [...messages, ...rumours.slice(0, room)] });
  }

  /**
   * Echo feedback only under a backlog (more rumours queued than a datagram
   * holds, as after a mass join): then an echo counts as half the retransmit
   * budget. A short queue keeps every rumour's full budget, so refutations
   * still reach everyone through heavy loss.
   */
  private echo(key: string, tag: string): void {
    const limit = this.limit();
    for (const queue of [this.queue, this.lazyQueue]) {
      if (queue.size > ECHO_BACKLOG) queue.heardAgain(key, tag, Math.ceil(limit / 2), limit);
    }
  }

  private limit(): number {
    return retransmitLimit(this.config.retransmitMult, this.table.liveCount);
  }
}
