// How the membership bench's main thread talks to a shard: directly when the
// shard lives in this thread, by messages when it lives in a worker. Every
// request to a worker has a timeout, and a worker that throws or exits fails
// every request after it, so the bench ends with the worker's error, never hangs.
import { setTimeout as delay } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import {
  invokeShard,
  type MembershipShard,
  type ShardArgs,
  type ShardOp,
  type ShardOptions,
  type ShardResult,
} from './membership-shard.ts';
import type { ShardReply, ShardRequest } from './membership-shard-worker.ts';

export interface ShardClient {
  call<K extends ShardOp>(op: K, ...args: ShardArgs<K>): Promise<ShardResult<K>>;
  close(): Promise<void>;
}

export function inThreadShard(shard: MembershipShard): ShardClient {
  return {
    call: async (op, ...args) => (await invokeShard(shard, op, args)) as never,
    close: () => shard.close(),
  };
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

const WORKER_ENTRY = new URL('./membership-shard-worker.ts', import.meta.url);

export class WorkerShard implements ShardClient {
  private readonly label: string;
  private readonly worker: Worker;
  private readonly timeoutMs: number;
  private readonly onFailure: (error: Error) => void;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private failure: Error | undefined;
  private closing = false;

  /** `onFailure` hears the first error of this worker, even when no request is waiting. */
  constructor(label: string, options: ShardOptions, timeoutMs: number, onFailure: (error: Error) => void) {
    this.label = label;
    this.timeoutMs = timeoutMs;
    this.onFailure = onFailure;
    this.worker = new Worker(WORKER_ENTRY, { workerData: options, name: label });
    this.worker.on('message', (reply: ShardReply) => this.settle(reply));
    this.worker.on('error', (error) =>
      this.fail(new Error(`${label} failed: ${error.message}`, { cause: error })),
    );
    this.worker.on('messageerror', (error) =>
      this.fail(new Error(`${label}: unreadable message`, { cause: error })),
    );
    this.worker.on('exit', (code) => {
      if (!this.closing) this.fail(new Error(`${label} exited (code ${code})`));
    });
  }

  call<K extends ShardOp>(op: K, ...args: ShardArgs<K>): Promise<ShardResult<K>> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise<ShardResult<K>>((resolve, reject) => {
      // A worker that does not answer is stuck: treat it as failed, so close() does not wait on it.
      const timer = setTimeout(
        () => this.fail(new Error(`${this.label} did not answer '${op}' within ${this.timeoutMs} ms`)),
        this.timeoutMs,
      );
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject, timer });
      const request: ShardRequest = { id, op, args };
      this.worker.postMessage(request);
    });
  }

  /** Ask the shard to close its sockets (5 s at most), then end the thread, which closes what is left. */
  async close(): Promise<void> {
    if (!this.failure)
      await Promise.race([this.call('close').catch(() => {}), delay(5000, undefined, { ref: false })]);
    this.closing = true;
    this.fail(new Error(`${this.label} closed`));
    await this.worker.terminate();
  }

  private settle(reply: ShardReply): void {
    const pending = this.pending.get(reply.id);
    if (!pending) return;
    this.pending.delete(reply.id);
    clearTimeout(pending.timer);
    if (reply.ok) pending.resolve(reply.value);
    else pending.reject(reply.error instanceof Error ? reply.error : new Error(String(reply.error)));
  }

  private fail(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    for (const { reject, timer } of this.pending.values()) {
      clearTimeout(timer);
      reject(error);
    }
    this.pending.clear();
    if (!this.closing) this.onFailure(error);
  }
}
