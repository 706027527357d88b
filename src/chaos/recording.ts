// What a chaos run records from the engine besides status polls: every
// container exit (Docker's `die` events, with exit codes) while the run lasts,
// and every peer's log events since the start (Docker keeps a container's log
// across restarts, so one read at the end sees all of it, timestamps included).
import type Docker from 'dockerode';
import type { ClusterContainer } from '../orchestrator/cluster-inventory.ts';
import type { DockerClient } from '../orchestrator/docker-client.ts';
import { demultiplex, LineSplitter } from '../orchestrator/docker-stream.ts';
import { type ClusterSelector, containerLabelFilter } from '../orchestrator/labels.ts';
import { type ContainerExit, eventFromLogLine, type HistoryEvent } from './history.ts';

export type EventsClient = Pick<Docker, 'getEvents'>;

/** Split a Docker log line (`timestamps: true`) into its time (ms) and text. */
export function splitLogLine(line: string): { t: number | null; text: string } {
  const space = line.indexOf(' ');
  if (space <= 0) return { t: null, text: line };
  const t = Date.parse(line.slice(0, space));
  return Number.isFinite(t) ? { t, text: line.slice(space + 1) } : { t: null, text: line };
}

/** Log events of one container's output (timestamped lines), named `name` when a line carries no `peer`. */
export function eventsFromLog(output: string, name: string): HistoryEvent[] {
  const events: HistoryEvent[] = [];
  for (const line of output.split('\n')) {
    if (line.trim() === '') continue;
    const { t, text } = splitLogLine(line);
    if (!text.startsWith('{')) continue;
    const event = eventFromLogLine(text, name, t ?? Date.now());
    if (event) events.push(event);
  }
  return events;
}

/** The containers whose logs a run records: the peers, the enclave, and the demo's ledger (its appends). */
const RECORDED = (c: ClusterContainer) => c.role === 'peer' || c.role === 'enclave' || c.role === 'ledger';

/**
 * When each peer's, the enclave's and the ledger's current process started: the recording
 * reaches back to there, so a leader that acquired before the run has its
 * interval (a process that ended before the run cannot lead during it).
 */
export async function processStarts(
  docker: Pick<DockerClient, 'getContainer'>,
  containers: ClusterContainer[],
): Promise<Map<string, number>> {
  const starts = new Map<string, number>();
  for (const c of containers.filter(RECORDED)) {
    const info = await docker.getContainer(c.id).inspect();
    const t = Date.parse(info.State.StartedAt);
    if (Number.isFinite(t)) starts.set(c.id, t);
  }
  return starts;
}

/** Every log event of the cluster's peers, enclave and ledger since `sinceMs` (per container: `from`, if earlier), sorted by time. */
export async function collectLogEvents(
  docker: Pick<DockerClient, 'getContainer'>,
  containers: ClusterContainer[],
  runStart: number,
  from: Map<string, number> = new Map(),
): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  for (const c of containers.filter(RECORDED)) {
    const sinceMs = Math.min(runStart, from.get(c.id) ?? runStart);
    const raw = (await docker.getContainer(c.id).logs({
      stdout: true,
      stderr: true,
      timestamps: true,
      follow: false,
      since: Math.floor(sinceMs / 1000),
    })) as Buffer;
    const { stdout, stderr } = demultiplex(raw);
    events.push(...eventsFromLog(`${stdout}\n${stderr}`, c.name).filter((e) => e.t >= sinceMs));
  }
  return events.sort((a, b) => a.t - b.t);
}

interface DockerEvent {
  status?: string;
  Action?: string;
  id?: string;
  timeNano?: number;
  time?: number;
  Actor?: { ID?: string; Attributes?: Record<string, string> };
}

/** One `die` event as a ContainerExit, named through the cluster's containers. */
export function exitFromEvent(raw: DockerEvent, containers: ClusterContainer[]): ContainerExit | null {
  if ((raw.Action ?? raw.status) !== 'die') return null;
  const id = raw.Actor?.ID ?? raw.id ?? '';
  const known = containers.find((c) => c.id === id);
  const attributes = raw.Actor?.Attributes ?? {};
  const code = Number(attributes.exitCode);
  const t = raw.timeNano !== undefined ? Math.round(raw.timeNano / 1e6) : (raw.time ?? 0) * 1000;
  return {
    t,
    name: known?.name ?? attributes.name ?? id.slice(0, 12),
    container: known?.container ?? attributes.name ?? id.slice(0, 12),
    exitCode: Number.isFinite(code) ? code : null,
  };
}

/** Watches the cluster's containers die until `stop()`; the exits come back in order. */
export async function watchExits(
  docker: EventsClient,
  selector: ClusterSelector,
  containers: () => ClusterContainer[],
): Promise<{ stop: () => ContainerExit[] }> {
  const stream = (await docker.getEvents({
    filters: JSON.stringify({ type: ['container'], event: ['die'], label: containerLabelFilter(selector) }),
  })) as NodeJS.ReadableStream & { destroy?: () => void };
  const exits: ContainerExit[] = [];
  const lines = new LineSplitter((line) => {
    if (line.trim() === '') return;
    try {
      const exit = exitFromEvent(JSON.parse(line) as DockerEvent, containers());
      if (exit) exits.push(exit);
    } catch {
      // not an event line
    }
  });
  stream.on('data', (chunk: Buffer) => lines.push(chunk.toString('utf8')));
  stream.on('error', () => undefined);
  return {
    stop: () => {
      lines.flush();
      stream.destroy?.();
      return exits.sort((a, b) => a.t - b.t);
    },
  };
}
