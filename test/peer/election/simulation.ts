// A discrete-event simulation of peers running the election core against a
// model enclave that follows DESIGN.md §5, on one fake clock. Faults: kill,
// pause/resume, enclave outage, request latency. It records every leader
// interval so tests can check the invariants.

import type { LeaderCertificate } from '../../../src/crypto/leader-certificate.ts';
import { Election } from '../../../src/peer/election/election.ts';
import { DEFAULT_ELECTION_TIMING, type ElectionTiming } from '../../../src/peer/election/timing.ts';
import type { ElectionEffect, MemberIdentity } from '../../../src/peer/election/types.ts';
import { type Random, seededRandom } from '../../../src/random/seeded-random.ts';
import { testCertificate } from './certificates.ts';

interface Event {
  at: number;
  seq: number;
  run: () => void;
}

class Scheduler {
  now = 1_700_000_000_000;
  #queue: Event[] = [];
  #seq = 0;
  at(at: number, run: () => void): void {
    this.#queue.push({ at, seq: this.#seq++, run });
    this.#queue.sort((a, b) => a.at - b.at || a.seq - b.seq);
  }
  after(ms: number, run: () => void): void {
    this.at(this.now + ms, run);
  }
  runUntil(t: number): void {
    while (this.#queue.length > 0 && this.#queue[0]!.at <= t) {
      const event = this.#queue.shift()!;
      this.now = event.at;
      event.run();
    }
    this.now = t;
  }
}

type EnclaveReply = { ok: true; cert: LeaderCertificate } | { ok: false; code: string };

/** The rules of DESIGN.md §5 with the highest-id policy, no cryptography. */
export class ModelEnclave {
  epoch = 0;
  seq = 0;
  leader: string | null = null;
  leaseEnd = 0;
  issuedAt = 0;
  lapsedLeader: string | null = null;
  up = true;
  readonly grants = new Map<number, string>();
  requests = 0;
  readonly sched: Scheduler;
  readonly leaseMs: number;
  constructor(sched: Scheduler, leaseMs: number) {
    this.sched = sched;
    this.leaseMs = leaseMs;
  }

  current(): LeaderCertificate {
    return testCertificate({
      clusterId: 'sim',
      epoch: this.epoch,
      seq: this.seq,
      leader: this.leader ?? '',
      leaderKey: `key-${this.leader}`,
      policy: 'highest-id',
      issuedAt: this.issuedAt,
      leaseEndsAt: this.leaseEnd,
    });
  }

  #grant(members: MemberIdentity[], exclude: string | null): EnclaveReply {
    const candidates = members.map((m) => m.name).filter((n) => n !== exclude);
    if (candidates.length === 0) return { ok: false, code: 'E_NO_CANDIDATE' };
    this.epoch += 1;
    this.seq = 0;
    this.leader = candidates.sort().at(-1)!;
    this.issuedAt = this.sched.now;
    this.leaseEnd = this.sched.now + this.leaseMs;
    if (this.grants.has(this.epoch)) throw new Error(`equivocation in epoch ${this.epoch}`);
    this.grants.set(this.epoch, this.leader);
    return { ok: true, cert: this.current() };
  }

  elect(members: MemberIdentity[], waitMs: number, reply: (r: EnclaveReply) => void): void {
    this.requests += 1;
    if (!this.up) return; // unreachable: the caller times out
    const now = this.sched.now;
    if (this.leader !== null && now < this.leaseEnd) {
      if (waitMs > 0 && this.leaseEnd - now <= waitMs) {
        const heldEpoch = this.epoch;
        const heldSeq = this.seq;
        this.sched.at(this.leaseEnd, () => {
          if (this.epoch !== heldEpoch || this.seq !== heldSeq || this.sched.now < this.leaseEnd) {
            reply({ ok: true, cert: this.current() });
          } else {
            this.elect(members, 0, reply);
            this.requests -= 1;
          }
        });
        return;
      }
      reply({ ok: true, cert: this.current() });
      return;
    }
    const exclude = this.leader !== null && now >= this.leaseEnd ? this.leader : null;
    reply(this.#grant(members, exclude));
  }

  renew(by: string, epoch: number, seq: number, reply: (r: EnclaveReply) => void): void {
    this.requests += 1;
    if (!this.up) return;
    if (epoch !== this.epoch || by !== this.leader || this.sched.now >= this.leaseEnd) {
      reply({ ok: false, code: 'E_NOT_LEADER' });
      return;
    }
    if (seq !== this.seq) {
      reply({ ok: false, code: 'E_STALE_SEQUENCE' });
      return;
    }
    this.seq += 1;
    this.issuedAt = this.sched.now;
    this.leaseEnd = this.sched.now + this.leaseMs;
    reply({ ok: true, cert: this.current() });
  }

  resign(by: string, epoch: number, members: MemberIdentity[], reply: (r: EnclaveReply) => void): void {
    this.requests += 1;
    if (!this.up) return;
    if (epoch !== this.epoch || by !== this.leader) {
      reply({ ok: false, code: 'E_NOT_LEADER' });
      return;
    }
    this.leaseEnd = this.sched.now;
    reply(this.#grant(members, by));
  }
}

export interface LeaderInterval {
  peer: string;
  epoch: number;
  from: number;
  to: number | null;
  reason?: string;
}

interface SimPeer {
  name: string;
  election: Election;
  alive: boolean;
  paused: boolean;
  /** Deliveries that arrived while paused, run on resume. */
  inbox: (() => void)[];
}

export interface SimulationOptions {
  peers: number;
  seed: number;
  leaseMs?: number;
  timing?: Partial<ElectionTiming>;
  latencyMs?: number;
  gossipDelayMs?: number;
  requestTimeoutMs?: number;
  tickMs?: number;
  /** Probability that the enclave's reply to a request is lost (the request still takes effect). */
  replyLoss?: number;
}

export class Simulation {
  readonly sched = new Scheduler();
  readonly enclave: ModelEnclave;
  readonly peers = new Map<string, SimPeer>();
  readonly intervals: LeaderInterval[] = [];
  readonly logs: { at: number; peer: string; event: string; fields: Record<string, unknown> }[] = [];
  readonly random: Random;
  readonly #opts: Required<Omit<SimulationOptions, 'timing'>> & { timing: ElectionTiming };

  constructor(options: SimulationOptions) {
    this.random = seededRandom(options.seed);
    this.#opts = {
      leaseMs: 2000,
      latencyMs: 3,
      gossipDelayMs: 150,
      requestTimeoutMs: 3000,
      tickMs: 50,
      replyLoss: 0,
      ...options,
      timing: { ...DEFAULT_ELECTION_TIMING, ...options.timing },
    };
    this.enclave = new ModelEnclave(this.sched, this.#opts.leaseMs);
    for (let i = 1; i <= options.peers; i++) this.addPeer(`peer-${String(i).padStart(2, '0')}`);
  }

  addPeer(name: string): void {
    const clock = { now: () => this.sched.now - 1_000_000, wallNow: () => this.sched.now };
    const election = new Election({
      self: { name, publicKey: `key-${name}` },
      clusterId: 'sim',
      timing: this.#opts.timing,
      clock,
      random: this.random,
    });
    const peer: SimPeer = { name, election, alive: true, paused: false, inbox: [] };
    this.peers.set(name, peer);
    const tick = () => {
      if (!peer.alive) return;
      if (!peer.paused) this.#apply(peer, election.tick({ members: this.#members(), joined: true }));
      this.sched.after(this.#opts.tickMs, tick);
    };
    this.sched.after(Math.floor(this.random.next() * this.#opts.tickMs), tick);
  }

  #members(): MemberIdentity[] {
    // Membership is not simulated: every peer that is not dead is listed (even
    // a paused one, as SWIM would until it is suspected and declared dead).
    return [...this.peers.values()]
      .filter((p) => p.alive)
      .map((p) => ({ name: p.name, publicKey: `key-${p.name}` }));
  }

  #deliver(peer: SimPeer, fn: () => void): void {
    if (!peer.alive) return;
    if (peer.paused) peer.inbox.push(fn);
    else fn();
  }

  #apply(peer: SimPeer, effects: ElectionEffect[]): void {
    for (const effect of effects) {
      switch (effect.type) {
        case 'log':
          this.#record(peer.name, effect.event, effect.fields);
          break;
        case 'broadcast':
          for (const other of this.peers.values()) {
            if (other === peer) continue;
            this.sched.after(this.#opts.gossipDelayMs * (0.5 + this.random.next()), () =>
              this.#deliver(other, () =>
                this.#apply(other, other.election.offer(effect.certificate).effects),
              ),
            );
          }
          break;
        case 'elect':
        case 'renew':
        case 'resign':
          this.#send(peer, effect);
          break;
      }
    }
  }

  #send(peer: SimPeer, effect: Extract<ElectionEffect, { type: 'elect' | 'renew' | 'resign' }>): void {
    const latency = this.#opts.latencyMs;
    let answered = false;
    const reply = (r: EnclaveReply) => {
      if (this.random.next() < this.#opts.replyLoss) return; // lost on the way back: the caller times out
      this.sched.after(latency, () => {
        if (answered) return;
        answered = true;
        this.#deliver(peer, () => {
          const basis = effect.type === 'renew' ? effect.certificate : null;
          this.#apply(
            peer,
            r.ok
              ? peer.election.succeeded(effect.type, effect.sentAt, r.cert, basis)
              : peer.election.failed(effect.type, { code: r.code, message: r.code }),
          );
        });
      });
    };
    this.sched.after(latency, () => {
      if (effect.type === 'elect') this.enclave.elect(effect.members, effect.waitMs, reply);
      else if (effect.type === 'renew')
        this.enclave.renew(peer.name, effect.certificate.claims.epoch, effect.certificate.claims.seq, reply);
      else this.enclave.resign(peer.name, effect.certificate.claims.epoch, effect.members, reply);
    });
    // The shell's request timeout.
    this.sched.after(this.#opts.requestTimeoutMs + (effect.type === 'elect' ? effect.waitMs : 0), () => {
      if (answered) return;
      answered = true;
      this.#deliver(peer, () =>
        this.#apply(peer, peer.election.failed(effect.type, { code: 'E_TIMEOUT', message: 'timeout' })),
      );
    });
  }

  #record(peer: string, event: string, fields: Record<string, unknown>): void {
    this.logs.push({ at: this.sched.now, peer, event, fields });
    if (event === 'leader.acquired') {
      this.intervals.push({ peer, epoch: Number(fields.epoch), from: this.sched.now, to: null });
    } else if (event === 'leader.released') {
      const open = this.intervals.findLast((i) => i.peer === peer && i.to === null);
      if (!open) throw new Error(`${peer} released without acquiring`);
      open.to = Date.parse(String(fields.stoppedAt));
      open.reason = String(fields.reason);
    }
  }

  run(ms: number): void {
    this.sched.runUntil(this.sched.now + ms);
  }

  kill(name: string): void {
    const peer = this.peers.get(name)!;
    peer.alive = false;
    // A killed leader's open interval ends when it died.
    const open = this.intervals.findLast((i) => i.peer === name && i.to === null);
    if (open) {
      // It stopped acting when it died, or earlier if its window had run out while paused.
      open.to = Math.min(this.sched.now, this.#windowEndWall(peer) ?? this.sched.now);
      open.reason = 'killed';
    }
  }

  pause(name: string): void {
    this.peers.get(name)!.paused = true;
  }

  /** Unfreeze; `deliveriesFirst`: queued datagrams are handled before the timer fires (either can happen). */
  resume(name: string, options: { deliveriesFirst?: boolean } = {}): void {
    const peer = this.peers.get(name)!;
    peer.paused = false;
    const tick = () => this.#apply(peer, peer.election.tick({ members: this.#members(), joined: true }));
    if (!options.deliveriesFirst) tick();
    for (const fn of peer.inbox.splice(0)) fn();
    if (options.deliveriesFirst) tick();
  }

  resignAndStop(name: string): void {
    const peer = this.peers.get(name)!;
    this.#apply(peer, peer.election.resign({ members: this.#members(), joined: true }));
    // The shell keeps the process alive only until the resign answer is gossiped.
    this.sched.after(200, () => {
      peer.alive = false;
    });
  }

  /** Who each live, unpaused peer believes is leader, and at which epoch. */
  views(): { peer: string; leader: string | null; epoch: number }[] {
    return [...this.peers.values()]
      .filter((p) => p.alive && !p.paused)
      .map((p) => {
        const cert = p.election.status().certificate;
        return { peer: p.name, leader: cert?.claims.leader.name ?? null, epoch: cert?.claims.epoch ?? 0 };
      });
  }

  agreed(): { leader: string; epoch: number } | null {
    const views = this.views();
    const first = views[0];
    if (!first || first.leader === null) return null;
    const same = views.every((v) => v.leader === first.leader && v.epoch === first.epoch);
    const leader = this.peers.get(first.leader);
    const acting = leader?.alive && !leader.paused && leader.election.status().isLeader;
    return same && acting ? { leader: first.leader, epoch: first.epoch } : null;
  }

  /** Run until all agree on one acting leader; the time it took, or null. */
  runUntilAgreed(limitMs: number, stepMs = 10): number | null {
    const start = this.sched.now;
    while (this.sched.now - start <= limitMs) {
      if (this.agreed()) return this.sched.now - start;
      this.run(stepMs);
    }
    return null;
  }

  #windowEndWall(peer: SimPeer): number | null {
    const until = peer.election.status().actingUntil;
    return until === null ? null : until + 1_000_000; // mono -> wall, as in addPeer's clock
  }

  /**
   * Invariant 2: leader intervals (on the shared clock) never overlap. A
   * still-open interval ends now, or for a frozen peer at its window's end
   * (after which it cannot act, and logs the release on resume).
   */
  overlaps(): [LeaderInterval, LeaderInterval][] {
    const found: [LeaderInterval, LeaderInterval][] = [];
    const closed = this.intervals.map((i) => {
      if (i.to !== null) return { ...i, to: i.to };
      const peer = this.peers.get(i.peer)!;
      const end = peer.paused
        ? Math.min(this.sched.now, this.#windowEndWall(peer) ?? this.sched.now)
        : this.sched.now;
      return { ...i, to: end };
    });
    for (let i = 0; i < closed.length; i++) {
      for (let j = i + 1; j < closed.length; j++) {
        const a = closed[i]!;
        const b = closed[j]!;
        if (a.from < b.to && b.from < a.to) found.push([a, b]);
      }
    }
    return found;
  }
}
