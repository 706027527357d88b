// The membership bench's cluster: N loopback peers split into shards of
// consecutive names, one in this thread (workers = 1) or one per worker thread,
// so that no single event loop polls all N sockets. This side only sums the
// shards' small answers; times are absolute (see absoluteNow), so they compare
// across threads. The seeds are the first peers, in shard 0. With workers, the
// seeds get a worker of their own: in a mass start every joiner writes to them
// (a join, then its first pull), and libuv reads at most 32 datagrams from a
// socket per loop turn. Sharing a loop with hundreds of peers (turns of 0.3-0.5
// s under that load), their 4 MB receive buffers filled and dropped their own
// probes and acks, and the others declared them dead: an artifact of one
// process, since a real seed has a machine and an event loop to itself.
import type { SignatureCost } from './bench-admissions.ts';
import type { LoopbackKnowledge } from './loopback-cluster.ts';
import { MembershipShard } from './membership-shard.ts';
import { inThreadShard, type ShardClient, WorkerShard } from './shard-client.ts';

export interface ShardedClusterOptions {
  peers: number;
  /** 1 runs every peer in this thread; more: this many workers, plus one for the seeds. */
  workers: number;
  /** Longest wait for any one answer from a worker. */
  requestTimeoutMs?: number;
  /** Stand-in enclave key (PEM): peers are admitted and sign and check records. */
  enclavePem?: string;
}

const SEEDS = 3;

export class ShardedLoopbackCluster {
  readonly size: number;
  /** As asked: above 1, the peers' worker threads (the seeds run in one more). */
  readonly workers: number;
  /** Names closed on purpose (and not restarted yet). */
  readonly killed = new Set<string>();
  private readonly shards: ShardClient[] = [];
  /** Number in the first name of each shard, plus the total at the end. */
  private readonly bounds: number[];
  private readonly failure = new AbortController();

  private constructor(options: ShardedClusterOptions) {
    this.size = options.peers;
    this.workers = options.workers;
    // [first of shard 0, first of shard 1, ..., peers]; with workers, shard 0 is the seeds alone.
    const rest = options.peers - SEEDS;
    this.bounds =
      options.workers === 1
        ? [0, options.peers]
        : [
            0,
            ...Array.from(
              { length: options.workers + 1 },
              (_, w) => SEEDS + Math.floor((w * rest) / options.workers),
            ),
          ];
  }

  /** Open every shard's sockets, then start every peer, joining through the seeds. */
  static async start(options: ShardedClusterOptions): Promise<ShardedLoopbackCluster> {
    if (Math.floor(options.peers / options.workers) < SEEDS)
      throw new Error(`each worker needs at least ${SEEDS} peers`);
    const cluster = new ShardedLoopbackCluster(options);
    try {
      for (let w = 0; w < cluster.bounds.length - 1; w++) {
        const shard = {
          first: cluster.bounds[w]!,
          peers: cluster.bounds[w + 1]! - cluster.bounds[w]!,
          total: options.peers,
          ...(options.enclavePem ? { enclavePem: options.enclavePem } : {}),
        };
        cluster.shards.push(
          options.workers === 1
            ? inThreadShard(new MembershipShard(shard))
            : new WorkerShard(`worker ${w}`, shard, options.requestTimeoutMs ?? 30_000, (error) =>
                cluster.failure.abort(error),
              ),
        );
      }
      const [seeds] = await Promise.all(cluster.shards.map((s, w) => s.call('open', w === 0 ? SEEDS : 0)));
      await cluster.each((s) => s.call('start', seeds!));
      return cluster;
    } catch (error) {
      await cluster.close();
      throw error;
    }
  }

  /** Aborts, with the worker's error, when any worker fails. */
  get failed(): AbortSignal {
    return this.failure.signal;
  }

  /** Names of the running peers, in order (the seeds first). */
  live(): string[] {
    return Array.from({ length: this.size }, (_, i) => `peer-${i}`).filter((n) => !this.killed.has(n));
  }

  async knowledge(): Promise<LoopbackKnowledge> {
    const parts = await this.each((s) => s.call('knowledge', [...this.killed]));
    return {
      running: sum(parts.map((p) => p.running)),
      knowAll: sum(parts.map((p) => p.knowAll)),
      missing: [...new Set(parts.flatMap((p) => p.missing))].slice(0, 20),
      knownSum: sum(parts.map((p) => p.knownSum)),
      awarenessSum: sum(parts.map((p) => p.awarenessSum)),
    };
  }

  /** Every running peer knows every running peer. */
  async converged(): Promise<boolean> {
    const k = await this.knowledge();
    return k.knowAll === k.running;
  }

  async traffic(): Promise<{ datagramsOut: number; bytesOut: number; running: number }> {
    const parts = await this.each((s) => s.call('traffic'));
    return {
      datagramsOut: sum(parts.map((p) => p.datagramsOut)),
      bytesOut: sum(parts.map((p) => p.bytesOut)),
      running: sum(parts.map((p) => p.running)),
    };
  }

  /** Have every running peer pass the update on at first receipt; send it from `origin`. */
  async spread(origin: string, topic: string, key: string, payload: Uint8Array): Promise<number> {
    await this.each((s) => s.call('relay', topic, key));
    return this.shardOf(origin).call('originate', origin, topic, key, payload);
  }

  /** Running peers that hold the update, and the absolute time the last of them got it. */
  async reached(): Promise<{ all: boolean; lastAt: number }> {
    const parts = await this.each((s) => s.call('reached'));
    return {
      all: parts.every((p) => p.reached === p.running),
      lastAt: Math.max(...parts.map((p) => p.lastAt ?? 0)),
    };
  }

  /** Close a peer's socket without leave; returns the absolute time. */
  async kill(name: string): Promise<number> {
    this.killed.add(name);
    const owner = this.shardOf(name);
    const times = await this.each((s) => s.call('kill', name));
    return times[this.shards.indexOf(owner)]!;
  }

  async restart(name: string): Promise<void> {
    await this.each((s) => s.call('restart', name));
    this.killed.delete(name);
  }

  /** Absolute time the last running peer marked `name` dead, or undefined while one has not. */
  async markedDeadAt(name: string): Promise<number | undefined> {
    const parts = await this.each((s) => s.call('markedDeadAt', name));
    if (parts.some((p) => p.pending > 0)) return undefined;
    return Math.max(...parts.map((p) => p.lastAt ?? 0));
  }

  async falsePositives(): Promise<{ count: number; log: string[] }> {
    const parts = await this.each((s) => s.call('falsePositives'));
    return { count: sum(parts.map((p) => p.count)), log: parts.flatMap((p) => p.log).slice(0, 10) };
  }

  /** Signing and checking of records, summed over the shards. */
  async signatureCost(): Promise<SignatureCost> {
    const parts = await this.each((s) => s.call('signatureCost'));
    return {
      checks: sum(parts.map((p) => p.checks)),
      checkMs: sum(parts.map((p) => p.checkMs)),
      signs: sum(parts.map((p) => p.signs)),
      signMs: sum(parts.map((p) => p.signMs)),
      threadMs: sum(parts.map((p) => p.threadMs)),
    };
  }

  /** Close every socket and end every worker. */
  async close(): Promise<void> {
    await Promise.all(this.shards.map((s) => s.close()));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private each<T>(request: (shard: ShardClient) => Promise<T>): Promise<T[]> {
    return Promise.all(this.shards.map(request));
  }

  private shardOf(name: string): ShardClient {
    const index = Number(name.slice('peer-'.length));
    const w = this.bounds.findIndex((first, i) => index >= first && index < this.bounds[i + 1]!);
    if (w < 0 || w >= this.shards.length) throw new Error(`no peer ${name}`);
    return this.shards[w]!;
  }
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
