// Many peers in one process on real loopback UDP, for the membership benchmark
// and the in-process integration test. Each peer is a full MembershipNode on its
// own socket; the cluster tracks, from events, whom each peer knows and when it
// learned that a member died, so checks are cheap even at N = 1000. A cluster
// may hold only a share of the peers (`firstIndex`), the rest living in other
// threads; it is then told of their kills and restarts (noteKilled, noteRestarted).
import { generateKeyPairSync, type KeyObject, randomInt } from 'node:crypto';
import { membershipConfig, PEER_DEFAULTS } from '../../src/peer/config.ts';
import type { MembershipConfig } from '../../src/peer/membership/types.ts';
import { MembershipNode } from '../../src/peer/membership-node.ts';
import { UdpTransport } from '../../src/peer/transport/udp-transport.ts';
import { seededRandom } from '../../src/random/seeded-random.ts';
import { systemClock } from '../../src/time/clock.ts';
import { BenchAdmissions } from './bench-admissions.ts';

export interface LoopbackPeer {
  readonly node: MembershipNode;
  /** Names this peer holds alive or suspect (itself included). */
  readonly known: Set<string>;
  /** Member name -> performance.now() when this peer marked it dead. */
  readonly deadAt: Map<string, number>;
  /** Dead declarations about members that were alive at the time (false positives). */
  falseDeaths: number;
  /** The first few of them, for diagnosis. */
  readonly falseDeathLog: string[];
}

export interface LoopbackClusterOptions {
  peers: number;
  config?: Partial<MembershipConfig>;
  /** How many of the first peers every peer joins through. */
  seeds?: number;
  /** Start this many peers per second (default: all at once). */
  startRatePerSec?: number;
  /** Number in the first peer's name (`peer-<firstIndex>`), when other threads hold the rest. */
  firstIndex?: number;
  /** The stand-in enclave key (PEM): peers are admitted and check signed records; absent: open membership. */
  enclavePem?: string;
}

/** What the running peers here know, against the names every peer should know. */
export interface LoopbackKnowledge {
  running: number;
  /** Running peers that know exactly the expected names. */
  knowAll: number;
  /** Some expected names that some peer here does not know (at most 20). */
  missing: string[];
  /** Sums over the running peers here: names each knows, and each one's Lifeguard awareness score. */
  knownSum: number;
  awarenessSum: number;
}

function knowsExactly(known: ReadonlySet<string>, expected: ReadonlySet<string>): boolean {
  if (known.size !== expected.size) return false;
  for (const name of expected) if (!known.has(name)) return false;
  return true;
}

function openTransport(): Promise<UdpTransport> {
  return UdpTransport.open({ bindAddress: '127.0.0.1', port: 0, receiveBufferBytes: 2 << 20 });
}

function newIdentity(): { publicKey: Uint8Array; privateKey: KeyObject } {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  return {
    publicKey: new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }).subarray(-32)),
    privateKey,
  };
}

export class LoopbackCluster {
  readonly peers: LoopbackPeer[] = [];
  /** Names closed on purpose; dead marks about others are false positives. */
  readonly killed = new Set<string>();
  private readonly options: LoopbackClusterOptions;
  private readonly config: MembershipConfig;
  private transports: UdpTransport[] = [];
  private seedAddresses: string[] = [];

  /** Admissions of this cluster's peers, when the bench runs with them. */
  readonly admissions: BenchAdmissions | undefined;

  private constructor(options: LoopbackClusterOptions) {
    this.options = options;
    this.admissions = options.enclavePem ? new BenchAdmissions(options.enclavePem) : undefined;
    this.config = { ...membershipConfig(PEER_DEFAULTS), ...options.config };
  }

  private createNode(name: string, transport: UdpTransport): LoopbackPeer {
    const { publicKey, privateKey } = newIdentity();
    const authority = this.admissions?.authorityFor(name, publicKey, privateKey);
    return this.track(
      new MembershipNode({
        ...(authority ? { authority } : {}),
        name,
        publicKey,
        // Wall-clock ms, as the peer command does: a restart outranks its former self.
        incarnation: Date.now(),
        config: this.config,
        transport,
        clock: systemClock,
        random: seededRandom(randomInt(2 ** 32)),
      }),
    );
  }

  /** Open the sockets and start every peer, joining through the first `seeds` of them. */
  static async start(options: LoopbackClusterOptions): Promise<LoopbackCluster> {
    const cluster = await LoopbackCluster.open(options);
    await cluster.join(cluster.addresses.slice(0, options.seeds ?? 3));
    return cluster;
  }

  /** Open the sockets only, so their addresses can be handed out before any peer starts. */
  static async open(options: LoopbackClusterOptions): Promise<LoopbackCluster> {
    const cluster = new LoopbackCluster(options);
    cluster.transports = await Promise.all(Array.from({ length: options.peers }, openTransport));
    return cluster;
  }

  /** Addresses of the opened sockets, in name order. */
  get addresses(): string[] {
    return this.transports.map((t) => t.address);
  }

  /** Start a peer on every opened socket; each joins through `seedAddresses` (its own left out). */
  async join(seedAddresses: readonly string[]): Promise<void> {
    this.seedAddresses = [...seedAddresses];
    const first = this.options.firstIndex ?? 0;
    const rate = this.options.startRatePerSec;
    const batch = rate ? Math.max(1, Math.round(rate / 20)) : this.transports.length;
    for (let i = 0; i < this.transports.length; i++) {
      if (i > 0 && i % batch === 0) await new Promise((resolve) => setTimeout(resolve, 50));
      const peer = this.createNode(`peer-${first + i}`, this.transports[i]!);
      this.peers.push(peer);
      peer.node.join(this.seedAddresses.filter((a) => a !== peer.node.address));
    }
  }

  private track(node: MembershipNode): LoopbackPeer {
    const peer: LoopbackPeer = {
      node,
      known: new Set([node.name]),
      deadAt: new Map(),
      falseDeaths: 0,
      falseDeathLog: [],
    };
    node.on((event) => {
      switch (event.event) {
        case 'member.joined':
          peer.known.add(event.member);
          break;
        case 'member.dead':
          peer.known.delete(event.member);
          peer.deadAt.set(event.member, performance.now());
          if (!this.killed.has(event.member)) {
            peer.falseDeaths++;
            if (peer.falseDeathLog.length < 3) {
              const m = event.member;
              peer.falseDeathLog.push(
                // Wall-clock time, comparable with lines from peers in other threads.
                `${new Date().toISOString()} ${node.name} marked ${m} dead (incarnation ${event.incarnation}, by ${event.from})`,
              );
            }
          }
          break;
        case 'member.left':
        case 'member.removed':
          peer.known.delete(event.member);
          break;
      }
    });
    return peer;
  }

  /** Peers still running. */
  live(): LoopbackPeer[] {
    return this.peers.filter((p) => !this.killed.has(p.node.name));
  }

  /** Every running peer knows every running peer. */
  converged(): boolean {
    const live = this.live();
    return this.knowledge(new Set(live.map((p) => p.node.name))).knowAll === live.length;
  }

  /** Fraction of running peers that know all running peers. */
  convergedFraction(): number {
    const live = this.live();
    return this.knowledge(new Set(live.map((p) => p.node.name))).knowAll / live.length;
  }

  /** Measure the running peers here against `expected`, the running peers of the whole cluster. */
  knowledge(expected: ReadonlySet<string>): LoopbackKnowledge {
    const live = this.live();
    const missing = new Set<string>();
    let knowAll = 0;
    let knownSum = 0;
    let awarenessSum = 0;
    for (const p of live) {
      knownSum += p.known.size;
      awarenessSum += p.node.awarenessScore;
      if (knowsExactly(p.known, expected)) knowAll++;
      else if (missing.size < 20) {
        for (const name of expected) if (!p.known.has(name) && missing.size < 20) missing.add(name);
      }
    }
    return { running: live.length, knowAll, missing: [...missing], knownSum, awarenessSum };
  }

  /** Stop a peer as SIGKILL would: socket closed, no leave. */
  async kill(name: string): Promise<void> {
    const peer = this.peers.find((p) => p.node.name === name);
    if (!peer) throw new Error(`no peer ${name}`);
    this.noteKilled(name);
    await peer.node.close();
  }

  /** A peer was killed (here or in another thread): dead marks about it are expected. */
  noteKilled(name: string): void {
    this.killed.add(name);
  }

  /** A killed peer runs again (here or in another thread): forget when it was marked dead. */
  noteRestarted(name: string): void {
    this.killed.delete(name);
    for (const p of this.peers) p.deadAt.delete(name);
  }

  /** Start a killed peer again under its name, on a new port, and join the seeds. */
  async restart(name: string): Promise<void> {
    const at = this.peers.findIndex((p) => p.node.name === name);
    if (at < 0 || !this.killed.has(name)) throw new Error(`${name} is not a killed peer`);
    const transport = await openTransport();
    const peer = this.createNode(name, transport);
    this.peers[at] = peer;
    this.noteRestarted(name);
    peer.node.join(this.seedAddresses.filter((a) => a !== transport.address));
  }

  /** performance.now() when the last running peer marked `name` dead, or undefined. */
  allMarkedDeadAt(name: string): number | undefined {
    let last = 0;
    for (const p of this.live()) {
      const at = p.deadAt.get(name);
      if (at === undefined) return undefined;
      last = Math.max(last, at);
    }
    return last;
  }

  falsePositives(): number {
    return this.peers.reduce((sum, p) => sum + p.falseDeaths, 0);
  }

  traffic(): { datagramsOut: number; bytesOut: number } {
    let datagramsOut = 0;
    let bytesOut = 0;
    for (const p of this.live()) {
      datagramsOut += p.node.counters.datagramsOut;
      bytesOut += p.node.counters.bytesOut;
    }
    return { datagramsOut, bytesOut };
  }

  async close(): Promise<void> {
    // Sockets opened but never given a peer (join not called) are closed too.
    await Promise.all([...this.transports.map((t) => t.close()), ...this.peers.map((p) => p.node.close())]);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

export async function waitFor(
  check: () => boolean,
  timeoutMs: number,
  pollMs = 25,
): Promise<number | undefined> {
  const start = performance.now();
  while (!check()) {
    if (performance.now() - start > timeoutMs) return undefined;
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
  return performance.now() - start;
}
