// Worker-thread entry for the membership bench: one MembershipShard, driven by
// requests `{ id, op, args }` on the parent port, each answered `{ id, ok, value }`
// or `{ id, ok: false, error }`. An exception outside a request ends the worker,
// and the main thread fails the bench with it.
import { parentPort, workerData } from 'node:worker_threads';
import { invokeShard, MembershipShard, type ShardOp, type ShardOptions } from './membership-shard.ts';

export interface ShardRequest {
  id: number;
  op: ShardOp;
  args: unknown[];
}

export type ShardReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: unknown };

if (parentPort) {
  const port = parentPort;
  const shard = new MembershipShard(workerData as ShardOptions);
  port.on('message', async (request: ShardRequest) => {
    let reply: ShardReply;
    try {
      reply = { id: request.id, ok: true, value: await invokeShard(shard, request.op, request.args) };
    } catch (error) {
      reply = { id: request.id, ok: false, error };
    }
    port.postMessage(reply);
  });
}
