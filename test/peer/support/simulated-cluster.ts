// A cluster of MembershipNodes on the in-memory network with a manual clock:
// everything (timers, delivery, loss) runs from one seed, so a failing
// simulation is replayed by its seed.
import type { KeyObject } from 'node:crypto';
import { PeerAuthority } from '../../../src/peer/admission/member-authority.ts';
import { membershipConfig, PEER_DEFAULTS } from '../../../src/peer/config.ts';
import type { MembershipEvent } from '../../../src/peer/membership/membership-events.ts';
import type { MembershipConfig } from '../../../src/peer/membership/types.ts';
import { MembershipNode } from '../../../src/peer/membership-node.ts';
import { MemoryNetwork } from '../../../src/peer/transport/memory-network.ts';
import type { Keyring } from '../../../src/protocol/gossip-keyring.ts';
import { seededRandom } from '../../../src/random/seeded-random.ts';
import { ManualClock } from '../../../src/time/clock.ts';
import { newIdentity, SIM_CLUSTER, TestAdmissions, type TestIdentity } from './test-admissions.ts';

const identities: TestIdentity[] = [];
/** Peer i's Ed25519 identity (generated once per test process; generation is slow-ish). */
export function identity(i: number): TestIdentity {
  while (identities.length <= i) identities.push(newIdentity());
  return identities[i]!;
}

/** Raw Ed25519 public key of peer i. */
export function publicKey(i: number): Uint8Array {
  return identity(i).publicKey;
}

/** Peer i's private key, which signs its records and its renew/resign requests to the enclave. */
export function privateKey(i: number): KeyObject {
  return identity(i).privateKey;
}

/** The cluster's stand-in enclave, and an outsider's own (never attested). Made once per process. */
let enclaves: { cluster: TestAdmissions; outsider: TestAdmissions } | undefined;
export function simulatedEnclaves(): { cluster: TestAdmissions; outsider: TestAdmissions } {
  enclaves ??= { cluster: new TestAdmissions(), outsider: new TestAdmissions() };
  return enclaves;
}

/** A modified peer that hands out an admission of its own making (signed by a key nobody attested). */
class OutsiderAuthority extends PeerAuthority {
  readonly #forged: string;
  constructor(settings: ConstructorParameters<typeof PeerAuthority>[0], forged: string) {
    super(settings);
    this.#forged = forged;
  }
  override own(): string {
    return this.#forged;
  }
}

export interface SimulatedClusterOptions {
  keyring?: Keyring;
  /** Admission on (the default): every peer checks records against admissions, signs its own. */
  admission?: boolean;
}

export interface SimulatedPeer {
  node: MembershipNode;
  events: MembershipEvent[];
}

export class SimulatedCluster {
  readonly seed: number;
  readonly clock = new ManualClock(1_000);
  readonly network: MemoryNetwork;
  readonly peers = new Map<string, SimulatedPeer>();
  private readonly config: MembershipConfig;
  private readonly keyring: Keyring | undefined;
  private readonly admission: boolean;
  private nextRandom: number;

  constructor(
    seed: number,
    overrides: Partial<MembershipConfig> = {},
    options: SimulatedClusterOptions = {},
  ) {
    this.seed = seed;
    this.nextRandom = seed;
    this.network = new MemoryNetwork(this.clock, seededRandom(seed));
    this.config = { ...membershipConfig(PEER_DEFAULTS), ...overrides };
    this.keyring = options.keyring;
    this.admission = options.admission ?? true;
  }

  /**
   * Peer i's authority: admitted by the cluster's enclave, or (an outsider) by
   * an enclave key nobody attested, which is the most an outsider can make.
   */
  private authorityOf(i: number, admitted: boolean, own: TestIdentity): PeerAuthority {
    const { cluster, outsider } = simulatedEnclaves();
    const now = () => this.clock.now();
    const settings = { clusterId: SIM_CLUSTER, keys: cluster.keys, now, signer: own.privateKey };
    if (!admitted)
      return new OutsiderAuthority(settings, outsider.issue(`peer-${i}`, own.publicKey, { now: 0 }));
    const authority = new PeerAuthority(settings);
    authority.setOwn(cluster.issue(`peer-${i}`, own.publicKey, { now: 0 }));
    return authority;
  }

  static addressOf(i: number): string {
    return `10.0.${Math.floor(i / 250)}.${(i % 250) + 1}:7946`;
  }

  /**
   * Start peer `i` (name peer-i) and join it through the given seed addresses.
   * `admitted: false` makes it an outsider: this project's peer code, but no
   * admission from the cluster's enclave (it never held the join secret).
   * `identity`: another key than peer i's usual one (a restarted container).
   */
  start(
    i: number,
    seeds: string[],
    incarnation = 1,
    address = SimulatedCluster.addressOf(i),
    options: { admitted?: boolean; identity?: TestIdentity } = {},
  ): SimulatedPeer {
    const own = options.identity ?? identity(i);
    const authority = this.admission ? this.authorityOf(i, options.admitted ?? true, own) : undefined;
    const node = new MembershipNode({
      ...(authority ? { authority } : {}),
      name: `peer-${i}`,
      publicKey: own.publicKey,
      incarnation,
      config: this.config,
      transport: this.network.attach(address),
      clock: this.clock,
      random: seededRandom(++this.nextRandom * 7919),
      keyring: this.keyring,
      // Sealing times from the virtual clock, so replay windows are deterministic too.
      wallClock: () => this.clock.now(),
    });
    const peer = { node, events: [] as MembershipEvent[] };
    node.on((event) => peer.events.push(event));
    this.peers.set(node.name, peer);
    node.join(seeds);
    return peer;
  }

  /** Start n peers, each joining through peer-0. */
  startMany(n: number): void {
    for (let i = 0; i < n; i++) this.start(i, i === 0 ? [] : [SimulatedCluster.addressOf(0)]);
  }

  peer(name: string): SimulatedPeer {
    const peer = this.peers.get(name);
    if (!peer) throw new Error(`no peer ${name}`);
    return peer;
  }

  /** Kill without goodbye. */
  async kill(name: string): Promise<void> {
    await this.peer(name).node.close();
    this.peers.delete(name);
  }

  run(ms: number, stepMs = 10): void {
    for (let t = 0; t < ms; t += stepMs) this.clock.advance(Math.min(stepMs, ms - t));
  }

  /** Advance until `done()` holds; returns the simulated ms it took, or throws with the seed. */
  runUntil(done: () => boolean, limitMs: number, what: string): number {
    const start = this.clock.now();
    while (!done()) {
      if (this.clock.now() - start > limitMs) {
        throw new Error(`${what} not reached within ${limitMs} ms (seed ${this.seed})`);
      }
      this.clock.advance(10);
    }
    return this.clock.now() - start;
  }

  live(): SimulatedPeer[] {
    return [...this.peers.values()];
  }

  /** Every live peer sees `member` in `state` (or, for 'gone', not alive/suspect). */
  allSee(member: string, state: 'alive' | 'suspect' | 'dead' | 'left'): boolean {
    return this.live()
      .filter((p) => p.node.name !== member)
      .every((p) => p.node.member(member)?.state === state);
  }

  /** Every live peer sees exactly the live peers as alive. */
  converged(): boolean {
    const names = new Set(this.peers.keys());
    return this.live().every((p) => {
      const alive = p.node.members().filter((m) => m.state === 'alive');
      return alive.length === names.size && alive.every((m) => names.has(m.name));
    });
  }

  /** Count of dead/suspect marks of live peers, by any live peer: false positives. */
  falseDeaths(): number {
    let n = 0;
    for (const p of this.live()) {
      for (const e of p.events) if (e.event === 'member.dead' && this.peers.has(e.member)) n++;
    }
    return n;
  }
}

/** A seed per run: fixed unless SIM_SEED is set; failing tests print it. */
export function simulationSeed(fallback: number): number {
  const fromEnv = Number(process.env.SIM_SEED);
  return Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : fallback;
}
