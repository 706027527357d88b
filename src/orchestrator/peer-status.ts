// A peer's GET /status: its shape, and the exec reader, which runs node's
// fetch against 127.0.0.1 inside the container (`docker exec`): no published
// port, works with a remote DOCKER_HOST, but boots a Node process per read.
// On a local engine commands read over HTTP from the host instead
// (direct-status-reader.ts); status-reader.ts chooses. Fields that later issues
// add (leader, isLeader, enclave) may be missing; readers treat every field as optional.
import type { ClusterContainer } from './cluster-inventory.ts';
import { execInContainer } from './container-exec.ts';
import type { DockerClient } from './docker-client.ts';

export const ADMIN_PORT = 7947;

export interface PeerMember {
  name: string;
  address?: string;
  state?: string;
  incarnation?: number;
}

export interface PeerLeader {
  name: string;
  epoch: number;
  seq?: number;
  /** Wall-clock end of the lease: epoch milliseconds or an ISO time. */
  leaseEndsAt?: number | string;
  policy?: string;
  verified?: boolean;
  certificate?: string;
}

export interface PeerEnclave {
  url?: string;
  trusted?: boolean | null;
  checksum?: string | null;
  pinnedChecksum?: string | null;
  error?: string | null;
}

export interface PeerStatus {
  name?: string;
  incarnation?: number;
  address?: string;
  members?: PeerMember[];
  counters?: { dropped?: Record<string, number>; [counter: string]: unknown };
  leader?: PeerLeader | null;
  isLeader?: boolean;
  enclave?: PeerEnclave;
  [field: string]: unknown;
}

export type StatusReader = (container: ClusterContainer) => Promise<PeerStatus>;

function fetchScript(port: number, timeoutMs: number): string {
  return [
    `fetch('http://127.0.0.1:${port}/status',{signal:AbortSignal.timeout(${timeoutMs})})`,
    `.then(async(r)=>{const t=await r.text();if(!r.ok)throw new Error('HTTP '+r.status+': '+t.slice(0,200));process.stdout.write(t)})`,
    `.catch((e)=>{process.stderr.write(String(e?.cause?.code??e?.message??e));process.exitCode=1})`,
  ].join('');
}

/** Reads /status by exec; rejects with a one-line reason a table can show. */
export function execStatusReader(
  docker: Pick<DockerClient, 'getContainer'>,
  options: { port?: number; timeoutMs?: number } = {},
): StatusReader {
  const port = options.port ?? ADMIN_PORT;
  const timeoutMs = options.timeoutMs ?? 3000;
  return async (container) => {
    const result = await execInContainer(
      docker,
      container.id,
      ['node', '-e', fetchScript(port, timeoutMs)],
      timeoutMs + 3000,
    );
    if (result.exitCode !== 0) {
      const why = result.stderr.trim() || `exit ${result.exitCode}`;
      throw new Error(
        why === 'ECONNREFUSED' ? `nothing listens on 127.0.0.1:${port} in the container (ECONNREFUSED)` : why,
      );
    }
    return parseStatus(result.stdout);
  };
}

export function parseStatus(text: string): PeerStatus {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(`/status is not JSON: ${text.slice(0, 80)}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new Error('/status is not a JSON object');
  }
  return parsed as PeerStatus;
}

/** Datagrams dropped, summed over every reason. */
export function droppedTotal(status: PeerStatus): number {
  const dropped = status.counters?.dropped;
  if (!dropped || typeof dropped !== 'object') return 0;
  return Object.values(dropped).reduce((sum, n) => sum + (typeof n === 'number' ? n : 0), 0);
}

export function aliveMembers(status: PeerStatus): number | undefined {
  if (!Array.isArray(status.members)) return undefined;
  return status.members.filter((m) => m.state === undefined || m.state === 'alive').length;
}

/** Milliseconds of lease left at `now`, or undefined when unknown. */
export function leaseLeftMs(leader: PeerLeader, now: number): number | undefined {
  const end = leader.leaseEndsAt;
  const endMs = typeof end === 'number' ? end : typeof end === 'string' ? Date.parse(end) : Number.NaN;
  return Number.isFinite(endMs) ? endMs - now : undefined;
}
