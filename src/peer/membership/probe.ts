// SWIM's failure detector: one probe at a time (a ping, then indirect pings
// through k others, then a suspicion), the order members are probed in, and
// the relays this peer runs for others' indirect probes. Lifeguard's parts
// live here too: nacks, awareness on a missed or late probe, the buddy system.
// Pure like the core: time comes in as `now`, datagrams go out through the Outbox.
import { encodeMessage } from '../../protocol/gossip-codec.ts';
import type { GossipMessage } from '../../protocol/gossip-messages.ts';
import { type Random, randomInt, shuffle } from '../../random/seeded-random.ts';
import type { Awareness } from './awareness.ts';
import { isLive, type MemberRow, type MemberTable, starvedTogether } from './member-table.ts';
import type { Outbox } from './outbox.ts';
import { scaledByAwareness } from './timing.ts';
import type { MembershipConfig } from './types.ts';

/** The messages of probing, handled here. */
export type ProbeMessage = Extract<GossipMessage, { type: 'ping' | 'indirect-ping' | 'ack' | 'nack' }>;

/** Most members a higher layer may queue to be probed next (see preferNext). */
const PREFERRED_MAX = 4;
/**
 * Most indirect probes this peer runs for others at once: each costs a ping
 * to a member, so a flood of requests is bounded, not relayed. A cluster's
 * probers ask k helpers each per probe interval, so a helper rarely has more
 * than a few.
 */
const RELAYS_MAX = 32;
/** The lateness estimate halves every this long without a new late wake-up. */
const LAG_HALF_LIFE_MS = 2_000;

export interface ProberContext {
  config: MembershipConfig;
  table: MemberTable;
  random: Random;
  awareness: Awareness;
  outbox: Outbox;
  /** Sequence numbers shared with the other parts of the core. */
  nextSeq: () => number;
}

interface Probe {
  seq: number;
  target: MemberRow;
  directDeadline: number;
  finalDeadline: number;
  indirectSent: boolean;
  expectedNacks: number;
  nacks: number;
  /** Started well after it was due (see tick). */
  late: boolean;
  /** A second probe of a member whose first failed while this peer was starved. */
  recheck: boolean;
}

interface Relay {
  requester: string;
  /** The member probed on the requester's behalf. */
  target: string;
  seq: number;
  deadline: number;
}

export class Prober {
  private readonly ctx: ProberContext;
  private probe: Probe | undefined;
  private nextProbeAt: number;
  private probeOrder: string[] = [];
  private probeIndex = 0;
  /**
   * Suspects heard of from others, probed next: our ping carries the suspicion
   * (buddy system) so a live suspect refutes to us first-hand, and a dead one
   * gathers independent confirmations sooner.
   */
  private urgentProbes: string[] = [];
  /** Live members a higher layer asked to be probed next (see preferNext). */
  private preferredProbes: string[] = [];
  private readonly relays = new Map<number, Relay>();
  /**
   * How late this peer's wake-ups come (ms): the latest lateness, halving every
   * LAG_HALF_LIFE_MS, at most the longest probe interval (one long stall, a
   * pause or a suspended VM, is not load, and must not slow probing for long).
   * On a busy event loop an ack waits a turn at the target and a turn here, so
   * a probe is given twice this on top of its timeouts.
   */
  private lagMs = 0;
  private lagAt = 0;
  /** A member to probe again next before suspecting it (see starved). */
  private recheckNext: string | undefined;

  constructor(ctx: ProberContext, now: number) {
    this.ctx = ctx;
    // Stagger the first probe so peers started together do not beat in step.
    this.nextProbeAt = now + randomInt(ctx.random, ctx.config.probeIntervalMs);
  }

  private get selfName(): string {
    return this.ctx.table.selfName;
  }

  /** When `tick` next has work: the running probe's deadline or the next probe, or a relay's. */
  wakeAt(): number {
    const probe = this.probe;
    let next = probe ? (probe.indirectSent ? probe.finalDeadline : probe.directDeadline) : this.nextProbeAt;
    for (const relay of this.relays.values()) next = Math.min(next, relay.deadline);
    return next;
  }

  /** A member became suspect here: probe it next (buddy system). */
  suspected(name: string): void {
    this.urgentProbes.push(name);
  }

  /**
   * Probe this live member next (before the round-robin order), so what is
   * queued for piggybacking reaches it within one probe interval. A leader
   * uses it to bring its renewals to the followers that ask the enclave first.
   */
  preferNext(name: string): void {
    if (name === this.selfName || this.preferredProbes.includes(name)) return;
    if (this.preferredProbes.length >= PREFERRED_MAX) return;
    this.preferredProbes.push(name);
  }

  tick(now: number): void {
    this.advanceProbe(now);
    this.expireRelays(now);
  }

  handle(from: string, message: ProbeMessage, now: number): void {
    const { table, outbox } = this.ctx;
    switch (message.type) {
      case 'ping': {
        if (message.target !== this.selfName) {
          outbox.emit({ event: 'message.ignored', reason: 'wrong-target' });
          return;
        }
        const reply: Uint8Array[] = [encodeMessage({ type: 'ack', seq: message.seq })];
        // A prober we think suspect or dead hears it at once, so it can refute.
        const source = table.get(message.source);
        if (source && (source.state === 'suspect' || source.state === 'dead')) {
          const { name, incarnation } = source.record;
          reply.push(encodeMessage({ type: source.state, name, incarnation, from: this.selfName }));
        }
        outbox.send(from, reply);
        return;
      }
      case 'indirect-ping': {
        // Only a live member, at the address it announced: never an address a
        // datagram names (one datagram of 77 requests made 77 pings to it).
        const target = table.get(message.target);
        if (
          !target ||
          !isLive(target) ||
          target.record.name === this.selfName ||
          target.record.address !== message.targetAddress
        ) {
          outbox.emit({ event: 'message.ignored', reason: 'indirect-target' });
          return;
        }
        if (this.relays.size >= RELAYS_MAX || this.relaying(message.target, from)) {
          outbox.emit({ event: 'message.ignored', reason: 'relay-limit' });
          return;
        }
        const seq = this.ctx.nextSeq();
        this.relays.set(seq, {
          requester: from,
          target: message.target,
          seq: message.seq,
          deadline: now + this.ctx.config.probeTimeoutMs,
        });
        outbox.send(message.targetAddress, [
          encodeMessage({ type: 'ping', seq, target: message.target, source: this.selfName }),
        ]);
        return;
      }
      case 'ack': {
        const relay = this.relays.get(message.seq);
        if (relay) {
          this.relays.delete(message.seq);
          outbox.send(relay.requester, [encodeMessage({ type: 'ack', seq: relay.seq })]);
          return;
        }
        if (this.probe && this.probe.seq === message.seq) {
          // A probe that started late proves nothing about our health.
          if (!this.probe.late) this.ctx.awareness.apply(-1);
          const target = this.probe.target;
          // Answered from where we pinged it: that address is its own.
          if (from === target.record.address) table.markProven(target);
          this.probe = undefined;
        }
        return;
      }
      case 'nack':
        if (this.probe && this.probe.seq === message.seq) this.probe.nacks++;
        return;
    }
  }

  private nextTarget(): MemberRow | undefined {
    const { table } = this.ctx;
    while (this.urgentProbes.length > 0) {
      const member = table.get(this.urgentProbes.shift()!);
      if (member && member.state === 'suspect') return member;
    }
    while (this.preferredProbes.length > 0) {
      const member = table.get(this.preferredProbes.shift()!);
      if (member && isLive(member) && member.record.name !== this.selfName) return member;
    }
    for (let attempts = 0; attempts < 2; attempts++) {
      while (this.probeIndex < this.probeOrder.length) {
        const member = table.get(this.probeOrder[this.probeIndex++]!);
        if (member && isLive(member) && member.record.name !== this.selfName) return member;
      }
      // End of a round: a fresh shuffled order of everyone live (memberlist).
      this.probeOrder = shuffle(
        this.ctx.random,
        table
          .all()
          .filter((m) => isLive(m) && m.record.name !== this.selfName)
          .map((m) => m.record.name),
      );
      this.probeIndex = 0;
    }
    return undefined;
  }

  /** Move the running probe past its deadlines, or start the next one when due. */
  private advanceProbe(now: number): void {
    const { config, table, awareness, outbox } = this.ctx;
    const probe = this.probe;
    if (probe && !probe.indirectSent && now >= probe.directDeadline) {
      probe.indirectSent = true;
      const helpers = table.pick(config.indirectChecks, (m) => m.state === 'alive' && m !== probe.target);
      probe.expectedNacks = helpers.length;
      const { name, address } = probe.target.record;
      const request = encodeMessage({
        type: 'indirect-ping',
        seq: probe.seq,
        target: name,
        targetAddress: address,
        source: this.selfName,
      });
      for (const helper of helpers) outbox.send(helper.record.address, [request]);
    }
    if (probe && now >= probe.finalDeadline) {
      this.noteLateness(now - probe.finalDeadline, now);
      this.probe = undefined;
      const missedNacks = probe.expectedNacks > 0 ? probe.expectedNacks - probe.nacks : 1;
      awareness.apply(Math.max(0, missedNacks));
      const target = probe.target;
      outbox.emit({
        event: 'probe.failed',
        member: target.record.name,
        nacks: probe.nacks,
        expectedNacks: probe.expectedNacks,
      });
      if (isLive(target) && table.get(target.record.name) === target) {
        if (!probe.recheck && target.state === 'alive' && this.starved()) {
          // A starved prober's failed probe is weak evidence (its own turns are
          // what is slow): probe the member once more before suspecting it.
          this.recheckNext = target.record.name;
        } else {
          table.applySuspect(target.record.name, target.record.incarnation, this.selfName, now);
        }
      }
    }
    if (!this.probe && now >= this.nextProbeAt) {
      // Woken this late for a probe: our own timing is off (a starved event loop),
      // and so would our verdicts on others be. Lifeguard's local health rises.
      const late = now - this.nextProbeAt > config.probeTimeoutMs / 2;
      if (late) awareness.apply(1);
      this.noteLateness(now - this.nextProbeAt, now);
      const score = awareness.score;
      const allowance = 2 * this.lagMs;
      this.nextProbeAt = now + scaledByAwareness(config.probeIntervalMs, score) + allowance;
      const again = this.recheckNext === undefined ? undefined : table.get(this.recheckNext);
      this.recheckNext = undefined;
      const recheck = again !== undefined && isLive(again);
      const target = recheck ? again : this.nextTarget();
      if (!target) return;
      const seq = this.ctx.nextSeq();
      this.probe = {
        seq,
        target,
        directDeadline: now + scaledByAwareness(config.probeTimeoutMs, score) + allowance,
        finalDeadline: this.nextProbeAt,
        indirectSent: false,
        expectedNacks: 0,
        nacks: 0,
        late,
        recheck,
      };
      const ping = [encodeMessage({ type: 'ping', seq, target: target.record.name, source: this.selfName })];
      if (target.state === 'suspect') {
        // Lifeguard's buddy system: tell a suspect directly, so it can refute at once.
        const { name, incarnation } = target.record;
        ping.push(encodeMessage({ type: 'suspect', name, incarnation, from: this.selfName }));
      }
      outbox.send(target.record.address, ping, false, true);
    }
  }

  /**
   * Whether this peer is starved the way member-table's deadlineOf means it
   * (local health stretching its timeouts 4-fold or more, in a cluster of 32
   * or more): its probes then fail for its own slowness more often than for
   * the target's, and each suspicion costs every peer a rumour and the target
   * a refutation that every peer must hear too.
   */
  private starved(): boolean {
    return starvedTogether(this.ctx.awareness.score + 1, this.ctx.table.liveCount);
  }

  private noteLateness(ms: number, now: number): void {
    const decayed = this.lagMs * 0.5 ** ((now - this.lagAt) / LAG_HALF_LIFE_MS);
    const cap = this.ctx.config.probeIntervalMs * this.ctx.config.awarenessMax;
    this.lagMs = Math.min(cap, Math.max(ms, decayed));
    this.lagAt = now;
  }

  /** Whether `requester` already has this peer probing `target` for it. */
  private relaying(target: string, requester: string): boolean {
    for (const relay of this.relays.values()) {
      if (relay.target === target && relay.requester === requester) return true;
    }
    return false;
  }

  private expireRelays(now: number): void {
    for (const [seq, relay] of this.relays) {
      if (relay.deadline > now) continue;
      this.relays.delete(seq);
      this.ctx.outbox.send(relay.requester, [encodeMessage({ type: 'nack', seq: relay.seq })]);
    }
  }
}
