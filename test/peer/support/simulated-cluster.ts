// A cluster of MembershipNodes on the in-memory network with a manual clock:
// everything (timers, delivery, loss) runs from one seed, so a failing
// simulation is replayed by its seed.
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { membershipConfig, PEER_DEFAULTS } from '../../../src/peer/config.ts';
import type { MembershipEvent } from '../../../src/peer/membership/membership-events.ts';
import type { MembershipConfig } from '../../../src/peer/membership/types.ts';
import { MembershipNode } from '../../../src/peer/membership-node.ts';
import { MemoryNetwork } from '../../../src/peer/transport/memory-network.ts';
import type { Keyring } from '../../../src/protocol/gossip-keyring.ts';
import { seededRandom } from '../../../src/random/seeded-random.ts';
import { ManualClock } from '../../../src/time/clock.ts';

const keyCache: { publicKey: Uint8Array; privateKey: KeyObject }[] = [];
/** Peer i's Ed25519 identity (generated once per test process; generation is slow-ish). */
function identity(i: number): { publicKey: Uint8Array; privateKey: KeyObject } {
  while (keyCache.length <= i) {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    keyCache.push({ publicKey: publicKey.export({ format: 'der', type: 'spki' }).subarray(-32), privateKey });
  }
  return keyCache[i]!;
}

/** Raw Ed25519 public key of peer i. */
export function publicKey(i: number): Uint8Array {
  return identity(i).publicKey;
}

/** Peer i's private key, which signs its renew/resign requests to the enclave. */
export function privateKey(i: number): KeyObject {
  return identity(i).privateKey;
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
  private nextRandom: number;

  constructor(seed: number, overrides: Partial<MembershipConfig> = {}, keyring?: Keyring) {
    this.seed = seed;
    this.nextRandom = seed;
    this.network = new MemoryNetwork(this.clock, seededRandom(seed));
    this.config = { ...membershipConfig(PEER_DEFAULTS), ...overrides };
    this.keyring = keyring;
  }

  static addressOf(i: number): string {
    return `10.0.${Math.floor(i / 250)}.${(i % 250) + 1}:7946`;
  }

  /** Start peer `i` (name peer-i) and join it through the given seed addresses. */
  start(i: number, seeds: string[], incarnation = 1, address = SimulatedCluster.addressOf(i)): SimulatedPeer {
    const node = new MembershipNode({
      name: `peer-${i}`,
      publicKey: publicKey(i),
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
