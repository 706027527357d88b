// N SWIM members in one process, in virtual time: the real MembershipNode
// (shell and pure core, codec, admission and record signatures) on a
// VirtualNetwork, driven by one ManualClock, every random draw from one seed.
// Same seed, same figures. What each peer knows is tracked from its events in
// a byte per (peer, member), so checks stay cheap at large N; who was killed
// on purpose is known, so any other death mark is a false positive.
import { createHash, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { membershipConfig, PEER_DEFAULTS } from '../../src/peer/config.ts';
import type { MembershipEvent } from '../../src/peer/membership/membership-events.ts';
import type { MembershipConfig } from '../../src/peer/membership/types.ts';
import { MembershipNode } from '../../src/peer/membership-node.ts';
import { seededRandom } from '../../src/random/seeded-random.ts';
import { ManualClock } from '../../src/time/clock.ts';
import { BenchAdmissions } from './bench-admissions.ts';
import { type LinkModel, VirtualNetwork } from './virtual-network.ts';

export interface VirtualClusterOptions {
  peers: number;
  seed: number;
  link: LinkModel;
  /** Every peer joins through the first `seeds` peers (default 3). */
  seeds?: number;
  /** Stand-in enclave key (PEM): admission and signed records on; absent: open membership. */
  enclavePem?: string;
  config?: Partial<MembershipConfig>;
}

/** What peer p holds member m as, in `views[p * n + m]`. */
const UNKNOWN = 0;
const ALIVE = 1;
const SUSPECT = 2;

/** Ed25519 identity i of a seeded run: the private key is a hash of seed and index, so runs repeat. */
export function seededIdentity(seed: number, i: number): { publicKey: Uint8Array; privateKey: KeyObject } {
  const secret = createHash('sha256').update(`enclave-elect simulation ${seed} ${i}`).digest();
  // PKCS#8 wrapping of a raw Ed25519 private key (RFC 8410): a fixed prefix, then the 32 bytes.
  const der = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), secret]);
  const privateKey = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
  return { publicKey: new Uint8Array(spki.subarray(-32)), privateKey };
}

export function virtualAddress(i: number): string {
  return `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}:7946`;
}

export class VirtualCluster {
  readonly clock = new ManualClock(0);
  readonly network: VirtualNetwork;
  readonly n: number;
  readonly nodes: MembershipNode[] = [];
  readonly admissions: BenchAdmissions | undefined;
  /** Peers killed on purpose, by index. */
  readonly killed = new Set<number>();
  /** Dead marks about members not killed: [time, peer, member]; split by phase by the caller. */
  readonly falseDeaths: { at: number; peer: number; member: number }[] = [];
  readonly #views: Uint8Array;
  /** Members each peer holds alive (itself not counted). */
  readonly #alive: Int32Array;
  readonly #index = new Map<string, number>();
  /** For a killed member: when each peer marked it dead (NaN until then). */
  readonly #deadAt = new Map<number, Float64Array>();
  readonly #config: MembershipConfig;
  readonly #options: VirtualClusterOptions;
  #liveCount = 0;

  constructor(options: VirtualClusterOptions) {
    const { peers: n, seed, link } = options;
    this.n = n;
    this.#options = options;
    this.network = new VirtualNetwork(this.clock, seededRandom(`${seed}:network`), link);
    this.#views = new Uint8Array(n * n);
    this.#alive = new Int32Array(n);
    // The product's bound (1024, the enclave's elect limit) would refuse members above it.
    this.#config = {
      ...membershipConfig(PEER_DEFAULTS),
      maxMembers: Math.max(PEER_DEFAULTS.maxMembers, n + 16),
      ...options.config,
    };
    this.admissions =
      options.enclavePem === undefined
        ? undefined
        : new BenchAdmissions(options.enclavePem, {
            now: () => this.clock.wallNow(),
            maxMembers: Math.max(4096, n + 16),
          });
    for (let i = 0; i < n; i++) this.#index.set(`peer-${i}`, i);
  }

  /** Start every peer at the same virtual instant; each joins through the seeds. */
  startAll(): void {
    const seeds = Array.from({ length: Math.min(this.#options.seeds ?? 3, this.n) }, (_, i) =>
      virtualAddress(i),
    );
    for (let i = 0; i < this.n; i++) {
      const node = this.#createNode(i);
      this.nodes.push(node);
      this.#liveCount++;
    }
    for (const node of this.nodes) node.join(seeds.filter((a) => a !== node.address));
  }

  #createNode(i: number): MembershipNode {
    const name = `peer-${i}`;
    const { publicKey, privateKey } = seededIdentity(this.#options.seed, i);
    const authority = this.admissions?.authorityFor(name, publicKey, privateKey);
    const node = new MembershipNode({
      ...(authority ? { authority } : {}),
      name,
      publicKey,
      incarnation: 1,
      config: this.#config,
      transport: this.network.attach(virtualAddress(i)),
      clock: this.clock,
      random: seededRandom(`${this.#options.seed}:peer:${i}`),
      wallClock: () => this.clock.wallNow(),
    });
    node.on((event) => this.#track(i, event));
    return node;
  }

  #track(peer: number, event: MembershipEvent): void {
    if (!('member' in event) || typeof event.member !== 'string') return;
    const member = this.#index.get(event.member);
    if (member === undefined || member === peer) return;
    switch (event.event) {
      case 'member.joined':
      case 'member.alive':
      case 'member.updated':
        this.#set(peer, member, ALIVE);
        return;
      case 'member.suspect':
        this.#set(peer, member, SUSPECT);
        return;
      case 'member.dead': {
        this.#set(peer, member, UNKNOWN);
        const marks = this.#deadAt.get(member);
        if (marks && Number.isNaN(marks[peer]!)) marks[peer] = this.clock.now();
        if (!this.killed.has(member)) this.falseDeaths.push({ at: this.clock.now(), peer, member });
        return;
      }
      case 'member.left':
      case 'member.removed':
        this.#set(peer, member, UNKNOWN);
        return;
    }
  }

  #set(peer: number, member: number, view: number): void {
    const at = peer * this.n + member;
    const before = this.#views[at]!;
    if (before === view) return;
    this.#alive[peer]! += (view === ALIVE ? 1 : 0) - (before === ALIVE ? 1 : 0);
    this.#views[at] = view;
  }

  /** Every running peer holds every other running peer alive (and no one else). */
  converged(): boolean {
    const expected = this.#liveCount - 1;
    for (let p = 0; p < this.n; p++) {
      if (this.killed.has(p)) continue;
      if (this.#alive[p] !== expected) return false;
      // A count can match while holding a killed member alive instead of a live one.
      for (const k of this.killed) if (this.#views[p * this.n + k] === ALIVE) return false;
    }
    return true;
  }

  /** Running peers that hold every other running peer alive. */
  convergedPeers(): number {
    let count = 0;
    for (let p = 0; p < this.n; p++)
      if (!this.killed.has(p) && this.#alive[p] === this.#liveCount - 1) count++;
    return count;
  }

  /**
   * Where convergence still falls short: of the running peers that do not hold
   * everyone alive, the median number they lack; how many peers lack the
   * most-missed member; and how many lacking views are suspicions rather than
   * members not listed at all.
   */
  gaps(): {
    short: number;
    medianMissing: number;
    worstMember: string | null;
    worstMissedBy: number;
    suspect: number;
  } {
    const missing: number[] = [];
    const missedBy = new Int32Array(this.n);
    let suspect = 0;
    for (let p = 0; p < this.n; p++) {
      if (this.killed.has(p) || this.#alive[p] === this.#liveCount - 1) continue;
      missing.push(this.#liveCount - 1 - this.#alive[p]!);
      for (let m = 0; m < this.n; m++) {
        if (m === p || this.killed.has(m)) continue;
        const view = this.#views[p * this.n + m];
        if (view === ALIVE) continue;
        missedBy[m]!++;
        if (view === SUSPECT) suspect++;
      }
    }
    missing.sort((a, b) => a - b);
    let worst = -1;
    for (let m = 0; m < this.n; m++) if (worst < 0 || missedBy[m]! > missedBy[worst]!) worst = m;
    return {
      short: missing.length,
      medianMissing: missing.length === 0 ? 0 : missing[Math.floor(missing.length / 2)]!,
      worstMember: worst >= 0 && missedBy[worst]! > 0 ? `peer-${worst}` : null,
      worstMissedBy: worst >= 0 ? missedBy[worst]! : 0,
      suspect,
    };
  }

  /** Kill peer i as SIGKILL would (no leave); its death marks are then tracked. */
  async kill(i: number): Promise<void> {
    if (this.killed.has(i)) throw new Error(`peer-${i} is already killed`);
    this.killed.add(i);
    this.#liveCount--;
    this.#deadAt.set(i, new Float64Array(this.n).fill(Number.NaN));
    await this.nodes[i]!.close();
  }

  /** When the first and the last running peer marked killed peer i dead; undefined while some have not. */
  deathMarks(i: number): { first: number; last: number } | undefined {
    const marks = this.#deadAt.get(i);
    if (!marks) throw new Error(`peer-${i} was not killed`);
    let first = Number.POSITIVE_INFINITY;
    let last = 0;
    for (let p = 0; p < this.n; p++) {
      if (this.killed.has(p)) continue;
      const at = marks[p]!;
      if (Number.isNaN(at)) return undefined;
      first = Math.min(first, at);
      last = Math.max(last, at);
    }
    return { first, last };
  }

  /** Datagrams and bytes sent so far by the running peers. */
  traffic(): { datagrams: number; bytes: number; running: number } {
    let datagrams = 0;
    let bytes = 0;
    for (let p = 0; p < this.n; p++) {
      if (this.killed.has(p)) continue;
      datagrams += this.nodes[p]!.counters.datagramsOut;
      bytes += this.nodes[p]!.counters.bytesOut;
    }
    return { datagrams, bytes, running: this.#liveCount };
  }

  /** Drops by reason over every peer (internal errors would show here). */
  drops(): Record<string, number> {
    const total: Record<string, number> = {};
    for (const node of this.nodes) {
      for (const [reason, count] of node.counters.dropped) total[reason] = (total[reason] ?? 0) + count;
    }
    return total;
  }

  /**
   * Advance virtual time in steps of `stepMs` until `done()` or `limitMs` has
   * passed; the virtual ms it took, or undefined.
   */
  runUntil(done: () => boolean, limitMs: number, stepMs = 50): number | undefined {
    const start = this.clock.now();
    while (!done()) {
      if (this.clock.now() - start >= limitMs) return undefined;
      this.clock.advance(stepMs);
    }
    return this.clock.now() - start;
  }

  run(ms: number): void {
    this.clock.advance(ms);
  }

  async close(): Promise<void> {
    await Promise.all(this.nodes.map((node) => node.close()));
  }
}
