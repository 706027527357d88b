// `cluster logs`: the containers' output merged into one stream, each line
// prefixed by the peer's name, optionally only the pino lines whose `event`
// matches. Without --follow the lines are ordered by Docker's timestamps; with
// --follow they are written as they arrive until Ctrl-C or every stream ends.
import type { Readable } from 'node:stream';
import { UsageError } from '../errors.ts';
import { type ClusterContainer, requireCluster } from './cluster-inventory.ts';
import type { DockerClient } from './docker-client.ts';
import { demultiplex, FrameDemuxer, LineSplitter } from './docker-stream.ts';
import { parseDuration } from './duration.ts';
import type { ClusterSelector } from './labels.ts';
import type { StatusReader } from './peer-status.ts';
import { resolveTarget } from './targets.ts';

export interface LogsOptions {
  /** One peer or container; all of the cluster's when absent. */
  target?: string;
  follow: boolean;
  /** Unix seconds. */
  since?: number;
  /** Event names, `*` as a wildcard (`leader.*`); lines without a matching `event` are left out. */
  events?: string[];
  tail?: number;
  write: (line: string) => void;
  signal?: AbortSignal;
  reader: StatusReader;
}

/** `--since`: a duration back from now (`30s`, `5m`), an ISO time, or unix seconds. */
export function parseSince(raw: string, now = Date.now()): number {
  if (/^\d{9,}(\.\d+)?$/.test(raw)) return Number(raw);
  if (/^\d+(\.\d+)?(ms|s|m|h)$/.test(raw)) return (now - parseDuration(raw, '--since')) / 1000;
  const ms = Date.parse(raw);
  if (Number.isFinite(ms)) return ms / 1000;
  throw new UsageError(`--since: '${raw}' is not a duration (30s, 5m), an ISO time or unix seconds`);
}

export function eventMatcher(patterns: string[] | undefined): ((line: string) => boolean) | undefined {
  const list = (patterns ?? [])
    .flatMap((p) => p.split(','))
    .map((p) => p.trim())
    .filter(Boolean);
  if (list.length === 0) return undefined;
  const regexes = list.map(
    (p) => new RegExp(`^${p.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`),
  );
  return (line) => {
    if (!line.startsWith('{')) return false;
    try {
      const event = (JSON.parse(line) as { event?: unknown }).event;
      return typeof event === 'string' && regexes.some((r) => r.test(event));
    } catch {
      return false;
    }
  };
}

function prefixer(containers: ClusterContainer[]): (c: ClusterContainer, line: string) => string {
  const width = Math.max(...containers.map((c) => c.name.length));
  return (c, line) => `${c.name.padEnd(width)} | ${line}`;
}

/** Docker timestamps are RFC 3339 with nanoseconds: they sort as strings within one zone (UTC). */
function splitTimestamp(line: string): [string, string] {
  const space = line.indexOf(' ');
  return space > 0 ? [line.slice(0, space), line.slice(space + 1)] : ['', line];
}

async function selectContainers(
  docker: Pick<DockerClient, 'listContainers'>,
  selector: ClusterSelector,
  options: LogsOptions,
) {
  const containers = await requireCluster(docker, selector);
  if (options.target === undefined) return containers;
  const { container } = await resolveTarget(containers, options.target, { reader: options.reader });
  return [container];
}

export async function clusterLogs(
  docker: Pick<DockerClient, 'listContainers' | 'getContainer'>,
  selector: ClusterSelector,
  options: LogsOptions,
): Promise<void> {
  const containers = await selectContainers(docker, selector, options);
  const keep = eventMatcher(options.events) ?? (() => true);
  const prefix = prefixer(containers);
  const base = {
    stdout: true,
    stderr: true,
    ...(options.since === undefined ? {} : { since: options.since }),
    ...(options.tail === undefined ? {} : { tail: options.tail }),
  };
  if (!options.follow) {
    const lines: { at: string; text: string }[] = [];
    for (const c of containers) {
      const raw = (await docker
        .getContainer(c.id)
        .logs({ ...base, follow: false, timestamps: true })) as Buffer;
      const { stdout, stderr } = demultiplex(raw);
      for (const line of `${stdout}${stderr}`.split('\n')) {
        if (line === '') continue;
        const [at, text] = splitTimestamp(line);
        if (keep(text)) lines.push({ at, text: prefix(c, text) });
      }
    }
    lines.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
    for (const line of lines) options.write(line.text);
    return;
  }
  const streams = await Promise.all(
    containers.map(
      async (c) => (await docker.getContainer(c.id).logs({ ...base, follow: true })) as unknown as Readable,
    ),
  );
  await new Promise<void>((resolve) => {
    let open = streams.length;
    const stop = () => {
      options.signal?.removeEventListener('abort', stop);
      for (const s of streams) s.destroy();
      resolve();
    };
    if (options.signal?.aborted) return stop();
    options.signal?.addEventListener('abort', stop, { once: true });
    streams.forEach((stream, i) => {
      const c = containers[i]!;
      const splitters = {
        stdout: new LineSplitter((line) => keep(line) && options.write(prefix(c, line))),
        stderr: new LineSplitter((line) => keep(line) && options.write(prefix(c, line))),
      };
      const demuxer = new FrameDemuxer((name, payload) => splitters[name].push(payload.toString('utf8')));
      stream.on('data', (chunk: Buffer) => demuxer.push(chunk));
      let done = false;
      const ended = () => {
        if (done) return; // 'end' and 'error' may both come
        done = true;
        splitters.stdout.flush();
        splitters.stderr.flush();
        open -= 1;
        if (open === 0) stop();
      };
      stream.once('end', ended);
      stream.once('error', ended);
    });
    if (streams.length === 0) resolve();
  });
}
