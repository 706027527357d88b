// What the membership core sends, assembled: the effects of one input in
// order, datagrams that carry their own messages plus as many queued rumours
// as fit, the two rumour queues (urgent, and piggyback-only), echo feedback
// on them, and gossip rounds. Knows addresses, never members: who to send to
// is the caller's choice.
import { EnclaveElectError } from '../../errors.ts';
import { encodeMessage, MESSAGE_OVERHEAD } from '../../protocol/gossip-codec.ts';
import { BroadcastQueue } from './broadcast-queue.ts';
import type { MembershipEvent } from './membership-events.ts';
import { retransmitLimit } from './timing.ts';
import type { MembershipConfig, MembershipEffect } from './types.ts';

/** The wire's limit on messages in one datagram. */
const MAX_MESSAGES = 255;
/** Rumours queued beyond what one datagram carries (about 20 member rumours). */
const ECHO_BACKLOG = 24;

export interface OutboxContext {
  config: MembershipConfig;
  /** Bytes each datagram spends outside its messages (envelope, encryption). */
  overhead: number;
  /** Live members, this peer included: how often a rumour is retransmitted depends on it. */
  liveCount: () => number;
  /** Whether `address` proved it is a member (see Membership.isProvenMember): only those get rumours. */
  isProven: (address: string) => boolean;
}

/**
 * Join news held at most per peer. After a mass start a peer learns of
 * hundreds of members at once; unbounded, their rumours outlived the cold
 * start by far: at most about 10 fit in the room a datagram has left, a peer
 * sends about 2 such datagrams a second, so 1,000 rumours each sent
 * log-N times took minutes to drain, and the simulated steady state of 1,000
 * members measured 5.9 KB/s per member, nearly all of it news every member
 * already had. The joiners' pulls carry the same news in bulk; past 128 the
 * rumour sent most often (the most widely heard) goes first. Simulated with
 * 1% loss: convergence at N = 400 4.35 s and at N = 1,000 6.3 s, as with no
 * bound (64 slowed N = 400 to 6.05 s); steady bytes per member at N = 1,000
 * 1.7 KB/s.
 */
export const NEWS_CAPACITY = 128;

export class Outbox {
  /** Rumours that start gossip rounds: membership changes, higher layers' news. */
  readonly queue = new BroadcastQueue();
  /**
   * Rumours that ride only on datagrams sent anyway (probes, acks, other
   * rumours) and never start a gossip round: periodic payloads such as lease
   * renewals, which would otherwise keep gossip rounds running forever.
   */
  readonly lazyQueue = new BroadcastQueue();
  /**
   * The news of members nobody knew before (a join), also riding only on
   * datagrams sent anyway, after the rumours above, and bounded (see
   * NEWS_CAPACITY).
   */
  readonly newsQueue = new BroadcastQueue(NEWS_CAPACITY);
  private readonly ctx: OutboxContext;
  private effects: MembershipEffect[] = [];

  constructor(ctx: OutboxContext) {
    this.ctx = ctx;
  }

  /** Rumours waiting in either queue. */
  get pending(): number {
    return this.queue.size + this.lazyQueue.size + this.newsQueue.size;
  }

  /** Whether a gossip round has anything to send. */
  get hasRumours(): boolean {
    return this.queue.size > 0;
  }

  /** The effects gathered since the previous call, in order; starts afresh. */
  flush(): MembershipEffect[] {
    const effects = this.effects;
    this.effects = [];
    return effects;
  }

  emit(event: MembershipEvent): void {
    this.effects.push({ type: 'event', event });
  }

  /**
   * One datagram: the given messages, then as many queued rumours as fit. To
   * an address that has not proven itself only the messages go: what it may
   * draw is what it sent (the shell's limit), and a reply must fit that.
   * `chosen`: an address this peer chose itself (see MembershipEffect.chosen).
   */
  send(to: string, messages: Uint8Array[], onlyIfRumours = false, chosen = false): void {
    if (!this.ctx.isProven(to)) {
      if (!onlyIfRumours) this.effects.push({ type: 'send', to, messages, ...(chosen ? { chosen } : {}) });
      return;
    }
    const max = this.ctx.config.maxDatagramBytes;
    let used = this.ctx.overhead;
    for (const m of messages) used += m.length;
    const room = MAX_MESSAGES - messages.length;
    // Each take counts a transmission for what it returns: ask only for what fits.
    const rumours = this.queue.take(max - used, this.limit(), room);
    if (onlyIfRumours && rumours.length === 0) return;
    for (const r of rumours) used += r.length;
    for (const queue of [this.lazyQueue, this.newsQueue]) {
      for (const r of queue.take(max - used, this.limit(), room - rumours.length)) {
        used += r.length;
        rumours.push(r);
      }
    }
    this.effects.push({ type: 'send', to, messages: [...messages, ...rumours] });
  }

  /**
   * One datagram holding only `message` (a state-sync part, which fills a
   * datagram itself). `provenBefore`: to a member that proved this address
   * while alive (Serf's reconnect to a dead member), sent like a probe.
   */
  sendAlone(to: string, message: Uint8Array | Uint8Array[], provenBefore = false): void {
    const messages = Array.isArray(message) ? message : [message];
    this.effects.push({ type: 'send', to, messages, ...(provenBefore ? { chosen: true } : {}) });
  }

  /**
   * `messages` to one address in as few datagrams as hold them, in order, and
   * nothing else (admissions answering a request: several to a datagram).
   */
  sendPacked(to: string, messages: Uint8Array[]): void {
    const room = this.ctx.config.maxDatagramBytes - this.ctx.overhead - 1;
    let batch: Uint8Array[] = [];
    let used = 0;
    for (const m of messages) {
      if (batch.length > 0 && (used + m.length > room || batch.length >= MAX_MESSAGES)) {
        this.effects.push({ type: 'send', to, messages: batch });
        batch = [];
        used = 0;
      }
      batch.push(m);
      used += m.length;
    }
    if (batch.length > 0) this.effects.push({ type: 'send', to, messages: batch });
  }

  /**
   * One datagram holding `message` padded to the largest datagram: a join's
   * push, so the seed may answer with a full datagram before the joiner has
   * proven its address (see PaddingMessage).
   */
  sendPadded(to: string, message: Uint8Array): void {
    const room = this.ctx.config.maxDatagramBytes - this.ctx.overhead - 1 - message.length - MESSAGE_OVERHEAD;
    const padding = room > 0 ? [encodeMessage({ type: 'padding', bytes: room })] : [];
    // Joins go to seeds this peer was configured with or found by DNS.
    this.effects.push({ type: 'send', to, messages: [message, ...padding], chosen: true });
  }

  /** A gossip round: one datagram of rumours to each address in turn, while any are queued. */
  gossipTo(addresses: readonly string[]): void {
    for (const address of addresses) {
      if (!this.hasRumours) return;
      this.send(address, [], true);
    }
  }

  /**
   * Queue a higher layer's payload (e.g. a leader certificate) as a rumour.
   * `piggybackOnly`: never start a gossip round for it (see lazyQueue).
   */
  broadcast(topic: string, key: string, payload: Uint8Array, piggybackOnly: boolean): void {
    const message = encodeMessage({ type: 'broadcast', topic, key, payload });
    const room = this.ctx.config.maxDatagramBytes - this.ctx.overhead - 1;
    if (message.length > room) {
      // It could never be sent: refuse now rather than let it sit in the queue.
      throw new EnclaveElectError(
        'E_PAYLOAD_TOO_LARGE',
        `broadcast '${topic}/${key}' needs ${message.length} bytes; a datagram has room for ${room}`,
      );
    }
    (piggybackOnly ? this.lazyQueue : this.queue).push(`broadcast:${topic}:${key}`, message);
  }

  /**
   * Echo feedback only under a backlog (more rumours queued than a datagram
   * holds, as after a mass join): then an echo counts as half the retransmit
   * budget. A short queue keeps every rumour's full budget, so refutations
   * still reach everyone through heavy loss.
   */
  echo(key: string, tag: string): void {
    const limit = this.limit();
    for (const queue of [this.queue, this.lazyQueue, this.newsQueue]) {
      if (queue.size > ECHO_BACKLOG) queue.heardAgain(key, tag, Math.ceil(limit / 2), limit);
    }
  }

  private limit(): number {
    return retransmitLimit(this.ctx.config.retransmitMult, this.ctx.liveCount());
  }
}
