// `cluster status`: every peer's /status gathered into one report, and the
// agreement over them. The report is the documented `--json` document:
// { cluster, peers: [{ container, name, state, status, error }], agreed, leader, epoch }.
import { EXEC_CONCURRENCY, mapBounded } from './bounded-map.ts';
import { type ClusterContainer, peersOf, requireCluster } from './cluster-inventory.ts';
import type { DockerClient } from './docker-client.ts';
import type { ClusterSelector } from './labels.ts';
import { leaseLeftMs, type PeerStatus, type StatusReader } from './peer-status.ts';

export interface PeerReport {
  container: string;
  name: string;
  state: string;
  status: PeerStatus | null;
  error: string | null;
}

export interface ClusterStatusReport {
  cluster: string;
  peers: PeerReport[];
  /** Every running peer answered and names the same verified leader and epoch. */
  agreed: boolean;
  /** The view most peers share (all of them when `agreed`), or null when no peer reports a verified leader. */
  leader: string | null;
  epoch: number | null;
}

export interface Agreement {
  agreed: boolean;
  leader: string | null;
  epoch: number | null;
  /** Peers naming `leader` at `epoch`. */
  agreeing: number;
  running: number;
  answering: number;
}

export function clusterLabel(selector: ClusterSelector): string {
  return selector.kind === 'name' ? selector.name : selector.project;
}

async function readPeerReport(container: ClusterContainer, reader: StatusReader): Promise<PeerReport> {
  const base = { container: container.container, state: container.state };
  if (container.state !== 'running') {
    return { ...base, name: container.name, status: null, error: `container is ${container.state}` };
  }
  try {
    const status = await reader(container);
    return {
      ...base,
      name: typeof status.name === 'string' ? status.name : container.name,
      status,
      error: null,
    };
  } catch (error) {
    return { ...base, name: container.name, status: null, error: (error as Error).message };
  }
}

/** Every peer's report, in order, with a bounded number of execs at once. */
export function readPeerReports(containers: ClusterContainer[], reader: StatusReader): Promise<PeerReport[]> {
  return mapBounded(containers, EXEC_CONCURRENCY, (container) => readPeerReport(container, reader));
}

export async function collectClusterStatus(
  docker: Pick<DockerClient, 'listContainers'>,
  selector: ClusterSelector,
  reader: StatusReader,
): Promise<ClusterStatusReport> {
  return (await collectClusterView(docker, selector, reader)).report;
}

/** The report, and the cluster's other containers (enclave, pki) for the people-facing view. */
export async function collectClusterView(
  docker: Pick<DockerClient, 'listContainers'>,
  selector: ClusterSelector,
  reader: StatusReader,
): Promise<{ report: ClusterStatusReport; others: ClusterContainer[] }> {
  const containers = await requireCluster(docker, selector);
  const reports = await readPeerReports(peersOf(containers), reader);
  const { agreed, leader, epoch } = agreementOf(reports);
  return {
    report: { cluster: clusterLabel(selector), peers: reports, agreed, leader, epoch },
    others: containers.filter((c) => c.role !== 'peer'),
  };
}

/** A verified leader view of one peer, or undefined. */
function viewOf(report: PeerReport): { leader: string; epoch: number } | undefined {
  const leader = report.status?.leader;
  if (!leader || typeof leader.name !== 'string' || typeof leader.epoch !== 'number') return undefined;
  if (leader.verified === false) return undefined;
  return { leader: leader.name, epoch: leader.epoch };
}

export function agreementOf(reports: PeerReport[]): Agreement {
  const running = reports.filter((r) => r.state === 'running');
  const answering = running.filter((r) => r.status !== null);
  const counts = new Map<string, { leader: string; epoch: number; n: number }>();
  for (const report of answering) {
    const view = viewOf(report);
    if (!view) continue;
    const key = `${view.epoch}\u0000${view.leader}`;
    const entry = counts.get(key) ?? { ...view, n: 0 };
    entry.n += 1;
    counts.set(key, entry);
  }
  // Most peers first; on a tie the newer epoch, which peers converge to.
  const best = [...counts.values()].sort((a, b) => b.n - a.n || b.epoch - a.epoch)[0];
  const agreeing = best?.n ?? 0;
  return {
    agreed: best !== undefined && running.length > 0 && agreeing === running.length,
    leader: best?.leader ?? null,
    epoch: best?.epoch ?? null,
    agreeing,
    running: running.length,
    answering: answering.length,
  };
}

/** "5/5 agree on peer-3, epoch 7", with what keeps the others out and whose lease has run out. */
export function summaryLine(reports: PeerReport[], now = Date.now()): string {
  if (reports.length === 0) return 'no peers';
  const a = agreementOf(reports);
  const notes: string[] = [];
  const expired = reports.filter((r) => {
    const leader = r.status?.leader;
    if (r.state !== 'running' || !leader || leader.name !== a.leader || leader.epoch !== a.epoch)
      return false;
    const left = leaseLeftMs(leader, now);
    return left !== undefined && left <= 0;
  }).length;
  if (expired > 0) notes.push(`lease expired at ${expired}`);
  const stopped = reports.length - a.running;
  if (stopped > 0) notes.push(`${stopped} not running`);
  if (a.answering < a.running) notes.push(`${a.running - a.answering} not answering`);
  const tail = notes.length > 0 ? ` (${notes.join(', ')})` : '';
  if (a.leader === null) return `no leader: 0/${a.running} running peers report a verified leader${tail}`;
  return `${a.agreeing}/${a.running} agree on ${a.leader}, epoch ${a.epoch}${tail}`;
}
