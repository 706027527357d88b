// Join and anti-entropy (push-pull): full membership tables exchanged as
// self-contained parts, merged entry by entry. Owns when this peer counts as
// joined, the two quick pulls after joining, and the periodic sync (plus
// Serf's reconnect to one dead member, so healed partitions find each other).
import { encodeMemberEntry, encodePushPull } from '../../protocol/gossip-codec.ts';
import type { PushPullMessage } from '../../protocol/gossip-messages.ts';
import type { Member, MemberTable } from './member-table.ts';
import type { MembershipConfig, MembershipEffect } from './membership.ts';
import { type Random, randomInt } from './random.ts';
import { pushPullIntervalMs } from './timing.ts';

export interface StateSyncContext {
  config: MembershipConfig;
  table: MemberTable;
  random: Random;
  /** Bytes each datagram spends outside its messages. */
  overhead: number;
  out: (effect: MembershipEffect) => void;
  nextId: () => number;
}

export class StateSync {
  private readonly ctx: StateSyncContext;
  nextAt: number;
  /** Full-table pulls still due after joining. */
  private quickPulls = 0;
  /** Addresses last given to `join`: the first pull after joining goes to one of them. */
  private seeds: readonly string[] = [];
  private hasJoined = false;

  constructor(ctx: StateSyncContext, now: number) {
    this.ctx = ctx;
    const base = ctx.config.pushPullIntervalMs;
    this.nextAt = now + base + randomInt(ctx.random, base);
  }

  get joined(): boolean {
    return this.hasJoined;
  }

  join(addresses: readonly string[]): void {
    const self = this.ctx.table.self.record.address;
    this.seeds = addresses.filter((address) => address !== self);
    for (const address of this.seeds) this.send(address, true, false);
  }

  merge(from: string, message: PushPullMessage, now: number): void {
    const { table } = this.ctx;
    for (const entry of message.entries) {
      const { state, ...record } = entry;
      switch (state) {
        case 'alive':
          // A joiner's own news must spread; other entries the sender already spreads.
          table.applyAlive(record, now, !message.join);
          break;
        case 'suspect':
        case 'dead':
          // Prefer suspecting to declaring dead on hearsay: it may refute (memberlist).
          table.applySuspect(record.name, record.incarnation, table.selfName, now);
          break;
        case 'left':
          table.applyLeft(record.name, record.incarnation, now);
          break;
      }
    }
    if (!message.response && message.part === 0) this.send(from, false, true);
    if (message.response) this.markJoined(from, now, true);
  }

  /** Joined once a seed answered, or once gossip shows another live member. */
  markJoined(from: string, now: number, bySeed: boolean): void {
    if (this.hasJoined) return;
    if (!bySeed && this.ctx.table.liveCount < 2) return;
    this.hasJoined = true;
    this.ctx.out({
      type: 'event',
      event: { event: 'join.succeeded', via: from, members: this.ctx.table.liveCount },
    });
    // A young view: pull the table again soon (first from a seed, whose view
    // grows as others join at the same time), then settle to the regular interval.
    const after = this.ctx.config.pushPullAfterJoinMs;
    this.quickPulls = 2;
    this.nextAt = now + after + randomInt(this.ctx.random, after);
  }

  tick(now: number): void {
    if (now < this.nextAt) return;
    const { config, table, random } = this.ctx;
    const regular = pushPullIntervalMs(config.pushPullIntervalMs, table.liveCount);
    if (this.quickPulls > 0) {
      // Pull: send only our own entry, get the whole table.
      const fromSeed = this.quickPulls === 2 && this.seeds.length > 0;
      this.quickPulls--;
      const target = fromSeed
        ? this.seeds[randomInt(random, this.seeds.length)]
        : table.pick(1, (m) => m.state === 'alive')[0]?.record.address;
      if (target) this.send(target, true, false, [table.self]);
      this.nextAt = now + (this.quickPulls > 0 ? 2 * config.pushPullAfterJoinMs : regular);
      return;
    }
    this.nextAt = now + regular;
    const target = table.pick(1, (m) => m.state === 'alive')[0];
    if (target) this.send(target.record.address, false, false);
    // Serf's reconnect: also sync with one dead member, so a healed partition
    // finds its other half (each side refutes what the other says of it).
    const dead = table.pick(1, (m) => m.state === 'dead')[0];
    if (dead) this.send(dead.record.address, false, false);
  }

  private send(
    to: string,
    join: boolean,
    response: boolean,
    members: readonly Member[] = this.ctx.table.all(),
  ): void {
    const { table, config, overhead } = this.ctx;
    const entries = members.map((m) => (m.entryBytes ??= encodeMemberEntry(table.entry(m))));
    const parts = encodePushPull(
      { syncId: this.ctx.nextId(), join, response },
      entries,
      config.maxDatagramBytes - overhead - 1,
    );
    for (const part of parts) this.ctx.out({ type: 'send', to, messages: [part] });
  }
}
