// The log events of a swarm stack's services, through the manager alone: the
// engine's task log API fetches each task's output (past tasks too) from the
// node that ran it. Task by task, not by service: a service's log waits for
// every node that ever ran one of its tasks, and one node that is down (killed,
// powered off) stalls it for many minutes. Tasks on a node the swarm calls down
// are not asked, and a read that does not finish in time is given up; both are
// reported, so a history with a gap says so. Each peer names itself in every
// line, so no task-to-member mapping is needed.
import type Docker from 'dockerode';
import { dockerMessage } from '../orchestrator/docker-client.ts';
import { demultiplex } from '../orchestrator/docker-stream.ts';
import { listStackTasks, type StackTask, type SwarmClient } from '../orchestrator/swarm-tasks.ts';
import type { HistoryEvent } from './history.ts';
import { eventsFromLog } from './recording.ts';

export type StackLogClient = SwarmClient & Pick<Docker, 'getTask'>;

/** A task whose log is not in the history, and why. */
export interface UnreadLog {
  task: string;
  node: string;
  reason: string;
}

export interface StackLogs {
  events: HistoryEvent[];
  unread: UnreadLog[];
}

export interface StackLogOptions {
  /** How long one task's log may take (default 30 s). */
  timeoutMs?: number;
  /** How many task logs are read at once (default 4). */
  concurrency?: number;
}

async function taskLog(docker: StackLogClient, task: StackTask, sinceMs: number, timeoutMs: number) {
  // dockerode has Task#logs (GET /tasks/{id}/logs); its type declarations do not.
  const handle = docker.getTask(task.id) as unknown as { logs: (options: object) => Promise<unknown> };
  const raw = (await handle.logs({
    stdout: true,
    stderr: true,
    timestamps: true,
    follow: false,
    since: Math.floor(sinceMs / 1000),
    abortSignal: AbortSignal.timeout(timeoutMs),
  })) as Buffer;
  return demultiplex(Buffer.isBuffer(raw) ? raw : Buffer.from(String(raw)));
}

/** Every event the stack's `services` logged since `sinceMs`, sorted by time; a line without `peer` is named after its service. */
export async function stackLogEvents(
  docker: StackLogClient,
  stack: string,
  services: string[],
  sinceMs: number,
  options: StackLogOptions = {},
): Promise<StackLogs> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const tasks = (await listStackTasks(docker, stack)).filter(
    (t) => services.includes(t.service) && t.containerId !== undefined,
  );
  const events: HistoryEvent[] = [];
  const unread: UnreadLog[] = [];
  const queue = [...tasks];
  const worker = async () => {
    for (let task = queue.shift(); task; task = queue.shift()) {
      if (task.nodeState !== undefined && task.nodeState !== 'ready') {
        unread.push({ task: task.name, node: task.node, reason: `its node is ${task.nodeState}` });
        continue;
      }
      try {
        const { stdout, stderr } = await taskLog(docker, task, sinceMs, timeoutMs);
        events.push(...eventsFromLog(`${stdout}\n${stderr}`, task.service).filter((e) => e.t >= sinceMs));
      } catch (error) {
        const reason =
          (error as Error).name === 'TimeoutError' || (error as Error).name === 'AbortError'
            ? `no answer in ${timeoutMs / 1000} s`
            : dockerMessage(error);
        unread.push({ task: task.name, node: task.node, reason });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 4) }, worker));
  return { events: events.sort((a, b) => a.t - b.t), unread };
}
