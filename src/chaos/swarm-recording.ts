// The log events of a swarm stack's services, through the manager alone: the
// engine's service log API gathers every task's output (past tasks too) from
// whichever node ran it, as long as that node answers. Each peer names itself
// in every line, so no task-to-member mapping is needed.

import type { DockerClient } from '../orchestrator/docker-client.ts';
import { demultiplex } from '../orchestrator/docker-stream.ts';
import type { HistoryEvent } from './history.ts';
import { eventsFromLog } from './recording.ts';

export type StackLogClient = Pick<DockerClient, 'getService'>;

/** Every event the stack's `services` logged since `sinceMs`, sorted by time; a line without `peer` is named after its service. */
export async function stackLogEvents(
  docker: StackLogClient,
  stack: string,
  services: string[],
  sinceMs: number,
): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  for (const service of services) {
    const raw = (await docker.getService(`${stack}_${service}`).logs({
      stdout: true,
      stderr: true,
      timestamps: true,
      follow: false,
      since: Math.floor(sinceMs / 1000),
    })) as unknown as Buffer;
    const { stdout, stderr } = demultiplex(Buffer.isBuffer(raw) ? raw : Buffer.from(String(raw)));
    events.push(...eventsFromLog(`${stdout}\n${stderr}`, service).filter((e) => e.t >= sinceMs));
  }
  return events.sort((a, b) => a.t - b.t);
}
