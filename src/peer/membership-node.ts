// The runtime shell around the pure SWIM core: decodes datagrams from a
// Transport, feeds them and the clock to the core, encodes and sends what it
// returns, counts traffic and drops, and hands events to listeners. Nothing a
// datagram contains can make it throw, and no exception leaves it through a
// socket handler, a timer or a caller's leave (guarded, counted, logged as
// internal.error). To an address that has not proven it is a member it sends
// at most the bytes it received from there (amplification-limit.ts).
import {
  datagramOverhead,
  decodeDatagram,
  encodeDatagram,
  type OpenChecks,
} from '../protocol/gossip-codec.ts';
import type { Keyring } from '../protocol/gossip-keyring.ts';
import { DEFAULT_REPLAY_WINDOW_MS, ReplayWindow } from '../protocol/replay-window.ts';
import type { Random } from '../random/seeded-random.ts';
import type { Clock, TimerHandle } from '../time/clock.ts';
import type { MemberAuthority } from './admission/member-authority.ts';
import { AmplificationLimit } from './amplification-limit.ts';
import { Membership } from './membership/membership.ts';
import type { MembershipEvent } from './membership/membership-events.ts';
import type { MemberSnapshot, MembershipConfig, MembershipEffect } from './membership/types.ts';
import { TrafficCounters } from './traffic-counters.ts';
import type { Transport } from './transport/transport.ts';

export interface MembershipNodeOptions {
  name: string;
  /** Raw 32-byte Ed25519 public key. */
  publicKey: Uint8Array;
  /** Start incarnation: wall-clock ms, so a restarted peer outranks its former self. */
  incarnation: number;
  config: MembershipConfig;
  transport: Transport;
  clock: Clock;
  random: Random;
  keyring?: Keyring;
  /** Admitted identities and signed records (docs/security.md); without it membership is open. */
  authority?: MemberAuthority;
  /** With a keyring: how far a sealed datagram's time may be from ours, and how long its nonce is remembered. */
  replayWindowMs?: number;
  /** Wall clock (ms) for sealing times; sender and receiver compare them. Date.now unless given. */
  wallClock?: () => number;
  /**
   * With a keyring: whether "ip:port" is also ours (another interface), beyond
   * the transport's and the advertised address. A datagram sealed for any
   * other address is refused.
   */
  isLocalAddress?: (address: string) => boolean;
}

export type MembershipListener = (event: MembershipEvent) => void;

export class MembershipNode {
  readonly counters = new TrafficCounters();
  private readonly core: Membership;
  private readonly transport: Transport;
  private readonly clock: Clock;
  /** A tick is deferred until pending I/O is read (see onTimer). */
  private tickPending = false;
  private readonly keyring: Keyring | undefined;
  private readonly openChecks: (() => OpenChecks) | undefined;
  private readonly wallClock: () => number;
  private readonly maxDatagramBytes: number;
  private readonly listeners: MembershipListener[] = [];
  private readonly limit = new AmplificationLimit();
  private timer: TimerHandle | undefined;
  private timerAt = Number.POSITIVE_INFINITY;
  private stopped = false;

  constructor(options: MembershipNodeOptions) {
    this.transport = options.transport;
    this.clock = options.clock;
    this.keyring = options.keyring;
    this.wallClock = options.wallClock ?? Date.now;
    if (options.keyring) {
      const replay = new ReplayWindow(options.replayWindowMs ?? DEFAULT_REPLAY_WINDOW_MS);
      const isLocalAddress = (address: string) =>
        address === this.address || address === this.transport.address || !!options.isLocalAddress?.(address);
      this.openChecks = () => ({ now: this.wallClock(), isLocalAddress, replay });
    }
    this.maxDatagramBytes = options.config.maxDatagramBytes;
    this.core = new Membership({
      self: {
        name: options.name,
        incarnation: options.incarnation,
        address: options.transport.address,
        publicKey: options.publicKey,
      },
      config: options.config,
      random: options.random,
      now: options.clock.now(),
      datagramOverhead: datagramOverhead(options.keyring),
      authority: options.authority,
    });
    this.transport.onPacket((bytes, from) => this.onPacket(bytes, from));
    this.schedule();
  }

  get name(): string {
    return this.core.name;
  }

  /** Where this peer says it can be reached (the transport's, unless readdressed). */
  get address(): string {
    return this.core.self.address;
  }

  get self(): MemberSnapshot {
    return this.core.self;
  }

  get joined(): boolean {
    return this.core.joined;
  }

  get awarenessScore(): number {
    return this.core.awarenessScore;
  }

  members(): MemberSnapshot[] {
    return this.core.members();
  }

  member(name: string): MemberSnapshot | undefined {
    return this.core.member(name);
  }

  knowsAddress(address: string): boolean {
    return this.core.knowsAddress(address);
  }

  on(listener: MembershipListener): void {
    this.listeners.push(listener);
  }

  join(addresses: readonly string[]): void {
    if (!this.stopped) this.guarded(() => this.core.join(addresses, this.clock.now()));
  }

  /** Probe this member next (see Prober.preferNext). */
  probeNext(name: string): void {
    if (!this.stopped) this.guarded(() => this.core.probeNext(name));
  }

  broadcast(
    topic: string,
    key: string,
    payload: Uint8Array,
    options: { piggybackOnly?: boolean } = {},
  ): void {
    // Validated even when stopped: a payload too large is the caller's bug either way.
    const effects = this.core.broadcast(topic, key, payload, options);
    if (!this.stopped) this.guarded(() => effects);
  }

  /** Send a payload to one live member now (see Membership.sendTo). */
  sendTo(name: string, topic: string, key: string, payload: Uint8Array): void {
    if (!this.stopped) this.guarded(() => this.core.sendTo(name, topic, key, payload));
  }

  /** Announce that this peer is now reachable at `address` ("ip:port"). */
  readdress(address: string): void {
    if (!this.stopped) this.guarded(() => this.core.readdress(address, this.clock.now()));
  }

  /** Graceful: announce leave, give the datagrams `lingerMs` to go out, close. */
  async leave(lingerMs = 50): Promise<void> {
    if (this.stopped) return;
    this.guarded(() => this.core.leave(this.clock.now()));
    await new Promise<void>((resolve) => this.clock.setTimer(lingerMs, resolve));
    await this.close();
  }

  /** Abrupt stop, as if the process were killed: no goodbye. */
  async close(): Promise<void> {
    this.stopped = true;
    this.timer?.cancel();
    await this.transport.close();
  }

  private onPacket(bytes: Uint8Array, from: string): void {
    if (this.stopped) return;
    this.counters.datagramsIn++;
    this.counters.bytesIn += bytes.length;
    this.limit.received(from, bytes.length);
    const decoded = decodeDatagram(bytes, this.keyring, this.maxDatagramBytes, this.openChecks?.());
    if (!decoded.ok) {
      this.counters.drop(decoded.reason);
      return;
    }
    this.counters.unknownMessages += decoded.unknownTypes;
    this.guarded(() => this.core.receive(from, decoded.messages, this.clock.now()));
    // Its ack may just have proven the sender: what waited for it goes now.
    if (this.limit.holds(from) && this.core.isProvenMember(from)) {
      for (const datagram of this.limit.release(from, this.clock.now())) this.transmit(datagram, from);
    }
  }

  /**
   * Run one input of the core and apply its effects. An exception (a bug, not
   * input: the codec refuses what the core cannot take) is counted and logged,
   * and the peer keeps serving: it must not escape a socket handler, a timer
   * or a signal handler.
   */
  private guarded(input: () => MembershipEffect[]): void {
    try {
      this.apply(input());
    } catch (error) {
      this.counters.drop('internal-error');
      this.emit({ event: 'internal.error', error: error instanceof Error ? error.message : String(error) });
    }
    this.schedule();
  }

  private apply(effects: MembershipEffect[]): void {
    for (const effect of effects) {
      if (effect.type === 'send') {
        if (effect.messages.length === 0) continue;
        // A rumour can name our own address for another member: never talk to ourselves.
        if (effect.to === this.address || effect.to === this.transport.address) {
          this.counters.withhold('self-addressed');
          continue;
        }
        const datagram = encodeDatagram(
          effect.messages,
          this.keyring,
          this.keyring && { to: effect.to, sealedAt: this.wallClock() },
        );
        if (
          effect.chosen ||
          this.core.isProvenMember(effect.to) ||
          this.limit.spend(effect.to, datagram.length)
        ) {
          this.transmit(datagram, effect.to);
        } else {
          // More than it sent us: hold it for the round trip its proof takes, or drop it.
          this.counters.withhold(
            this.limit.hold(effect.to, datagram, this.clock.now()) ? 'held' : 'unproven',
          );
        }
      } else {
        if (effect.event.event === 'message.ignored') this.counters.ignore(effect.event.reason);
        this.emit(effect.event);
      }
    }
  }

  private transmit(datagram: Uint8Array, to: string): void {
    this.counters.datagramsOut++;
    this.counters.bytesOut += datagram.length;
    this.transport.send(datagram, to);
  }

  private emit(event: MembershipEvent): void {
    // Refusals are counted, not logged: an attacker must not be able to flood the logs.
    if (event.event === 'record.refused') {
      this.counters.drop(`record-${event.reason}`);
      return;
    }
    if (event.event === 'admission.request_ignored') {
      this.counters.drop('admission-request-unproven');
      return;
    }
    if (event.event === 'admission.refused') {
      this.counters.drop(`admission-${event.reason}`);
      // A kid not yet attested may be the enclave's new key: the shell re-attests (throttled).
      if (event.reason !== 'unknown-kid') return;
    }
    for (const listener of this.listeners) listener(event);
  }

  /** Arm one timer for the core's next deadline. */
  private schedule(): void {
    if (this.stopped || this.tickPending) return;
    const at = this.core.nextWakeAt();
    if (at >= this.timerAt && this.timer) return;
    this.timer?.cancel();
    this.timerAt = at;
    this.timer = this.clock.setTimer(at - this.clock.now(), () => this.onTimer());
  }

  private onTimer(): void {
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
    if (this.stopped) return;
    // Read what has already arrived before judging deadlines: on a busy event
    // loop the timer fires late, and the ack it is about to give up on may be
    // waiting in the socket buffer (in one process with 1000 peers, or in a
    // container just unpaused).
    this.tickPending = true;
    this.clock.afterPendingIo(() => {
      this.tickPending = false;
      if (!this.stopped) this.guarded(() => this.core.tick(this.clock.now()));
    });
  }
}
