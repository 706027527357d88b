// One thread's share of the membership bench: peers `peer-<first>` .. on their
// own sockets, in a LoopbackCluster. Every method takes and returns small,
// cloneable values (counts, a few names, absolute times), so the same shard
// serves in the main thread (one shard) or behind a worker's message port.
import { type SignatureCost, threadCpuMs } from './bench-admissions.ts';
import { LoopbackCluster, type LoopbackKnowledge } from './loopback-cluster.ts';

export interface ShardOptions {
  /** Number in the first peer's name. */
  first: number;
  /** Peers in this shard. */
  peers: number;
  /** Peers in the whole cluster, all shards together. */
  total: number;
  /** Stand-in enclave key (PEM) for admissions and signed records; absent: open membership. */
  enclavePem?: string;
}

/** Wall-clock milliseconds with sub-ms precision, comparable across threads. */
export const absoluteNow = () => performance.timeOrigin + performance.now();

export class MembershipShard {
  private readonly options: ShardOptions;
  private cluster: LoopbackCluster | undefined;
  /** Peer name -> absolute time it first held the spread update. */
  private readonly reachedAt = new Map<string, number>();

  constructor(options: ShardOptions) {
    this.options = options;
  }

  /** Bind the sockets; returns the first `seeds` addresses (the seeds live in shard 0). */
  async open(seeds: number): Promise<string[]> {
    this.cluster = await LoopbackCluster.open({
      peers: this.options.peers,
      firstIndex: this.options.first,
      ...(this.options.enclavePem ? { enclavePem: this.options.enclavePem } : {}),
    });
    return this.cluster.addresses.slice(0, seeds);
  }

  async start(seedAddresses: string[]): Promise<void> {
    await this.peers().join(seedAddresses);
  }

  /** Measure every running peer here against the running peers of the whole cluster. */
  knowledge(killed: string[]): LoopbackKnowledge {
    const expected = new Set<string>();
    for (let i = 0; i < this.options.total; i++) expected.add(`peer-${i}`);
    for (const name of killed) expected.delete(name);
    return this.peers().knowledge(expected);
  }

  traffic(): { datagramsOut: number; bytesOut: number; running: number } {
    return { ...this.peers().traffic(), running: this.peers().live().length };
  }

  /** Have every running peer here pass the update on at its first receipt, and note when. */
  relay(topic: string, key: string): void {
    for (const p of this.peers().live()) {
      p.node.on((event) => {
        if (event.event !== 'broadcast.received' || event.topic !== topic || event.key !== key) return;
        if (this.reachedAt.has(p.node.name)) return;
        this.reachedAt.set(p.node.name, absoluteNow());
        p.node.broadcast(event.topic, event.key, event.payload);
      });
    }
  }

  /** Send the update from `name`; returns the absolute time it was sent. */
  originate(name: string, topic: string, key: string, payload: Uint8Array): number {
    const peer = this.peers()
      .live()
      .find((p) => p.node.name === name);
    if (!peer) throw new Error(`no running peer ${name} in this shard`);
    const at = absoluteNow();
    this.reachedAt.set(name, at);
    peer.node.broadcast(topic, key, payload);
    return at;
  }

  /** Running peers here that hold the update, and the absolute time the last of them got it. */
  reached(): { reached: number; running: number; lastAt: number | null } {
    const live = this.peers().live();
    const times = live.flatMap((p) => this.reachedAt.get(p.node.name) ?? []);
    return { reached: times.length, running: live.length, lastAt: times.length ? Math.max(...times) : null };
  }

  /** Close `name` without leave if it is here, else only note it; returns the absolute time. */
  async kill(name: string): Promise<number> {
    const at = absoluteNow();
    if (this.owns(name)) await this.peers().kill(name);
    else this.peers().noteKilled(name);
    return at;
  }

  /** Start `name` again if it is here (new port, joins the seeds), else only note it. */
  async restart(name: string): Promise<void> {
    if (this.owns(name)) await this.peers().restart(name);
    else this.peers().noteRestarted(name);
  }

  /** Absolute time the last running peer here marked `name` dead; null while one has not. */
  markedDeadAt(name: string): { pending: number; lastAt: number | null } {
    const live = this.peers().live();
    const pending = live.filter((p) => !p.deadAt.has(name)).length;
    const at = this.peers().allMarkedDeadAt(name);
    return { pending, lastAt: at === undefined ? null : performance.timeOrigin + at };
  }

  /** Time this shard's peers spent signing and checking records (zeros without admissions). */
  signatureCost(): SignatureCost {
    const admissions = this.peers().admissions;
    if (!admissions) return { checks: 0, checkMs: 0, signs: 0, signMs: 0, threadMs: 0 };
    return { ...admissions.cost, threadMs: threadCpuMs() - admissions.startedCpuMs };
  }

  falsePositives(): { count: number; log: string[] } {
    const log = this.peers().peers.flatMap((p) => p.falseDeathLog);
    return { count: this.peers().falsePositives(), log: log.slice(0, 10) };
  }

  async close(): Promise<void> {
    await this.cluster?.close();
  }

  private owns(name: string): boolean {
    const index = Number(name.slice('peer-'.length));
    return index >= this.options.first && index < this.options.first + this.options.peers;
  }

  private peers(): LoopbackCluster {
    if (!this.cluster) throw new Error('shard used before open()');
    return this.cluster;
  }
}

/** A shard's methods by name, as a request names them. */
export type ShardOp = keyof MembershipShard;
export type ShardArgs<K extends ShardOp> = Parameters<MembershipShard[K]>;
export type ShardResult<K extends ShardOp> = Awaited<ReturnType<MembershipShard[K]>>;

/** Run one request on a shard, wherever it lives. */
export async function invokeShard(shard: MembershipShard, op: ShardOp, args: unknown[]): Promise<unknown> {
  const method = shard[op] as (...args: unknown[]) => unknown;
  if (typeof method !== 'function') throw new Error(`no shard operation '${String(op)}'`);
  return await method.apply(shard, args);
}
