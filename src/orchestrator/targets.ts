// Which container a fault acts on: a peer name, a container name or id prefix,
// `enclave`, `leader` (from the peers' /status), or `random` (seeded, so a run
// can be replayed with the same --seed).
import { EnclaveElectError } from '../errors.ts';
import { newSeed, seededRandom } from '../random/seeded-random.ts';
import { type ClusterContainer, compareNames, peersOf } from './cluster-inventory.ts';
import type { StatusReader } from './peer-status.ts';
import { agreementOf, readPeerReports } from './status-report.ts';

export interface ResolvedTarget {
  container: ClusterContainer;
  /** How the target was chosen, for the progress line: "leader (epoch 7)", "random, seed 3f2a". */
  how: string;
  seed?: string;
}

export interface TargetOptions {
  reader: StatusReader;
  seed?: string;
  /** Which peers `random` may pick (default: running ones). */
  eligible?: (container: ClusterContainer) => boolean;
}

const isRunning = (c: ClusterContainer) => c.state === 'running';

function listing(containers: ClusterContainer[]): string {
  const peers = peersOf(containers);
  const described = peers.map((p) => `${p.name} (${p.state})`).join(', ');
  return peers.length > 0 ? `Peers: ${described}.` : 'The cluster has no peer containers.';
}

async function resolveLeader(containers: ClusterContainer[], reader: StatusReader): Promise<ResolvedTarget> {
  const running = peersOf(containers).filter(isRunning);
  const reports = await readPeerReports(running, reader);
  // A peer saying it acts as leader is the most direct evidence; on several, the newest epoch.
  const claiming = reports
    .map((report, i) => ({ report, container: running[i]! }))
    .filter(({ report }) => report.status?.isLeader === true)
    .sort((a, b) => (b.report.status?.leader?.epoch ?? 0) - (a.report.status?.leader?.epoch ?? 0));
  if (claiming[0]) {
    const epoch = claiming[0].report.status?.leader?.epoch;
    return {
      container: claiming[0].container,
      how: `leader${epoch === undefined ? '' : ` (epoch ${epoch})`}`,
    };
  }
  const agreement = agreementOf(reports);
  if (agreement.leader !== null) {
    const index = reports.findIndex((r) => r.name === agreement.leader);
    const found = index >= 0 ? running[index] : containers.find((c) => c.name === agreement.leader);
    if (found) return { container: found, how: `leader (epoch ${agreement.epoch})` };
    throw new EnclaveElectError(
      'E_NOT_FOUND',
      `peers name ${agreement.leader} as leader (epoch ${agreement.epoch}), but no container of the cluster is that peer. ${listing(containers)}`,
    );
  }
  const errors = reports.filter((r) => r.error).map((r) => `${r.name}: ${r.error}`);
  throw new EnclaveElectError(
    'E_NOT_FOUND',
    `no running peer reports a leader (${running.length} running${errors.length > 0 ? `; ${errors.join('; ')}` : ''}). \`enclave-elect cluster status\` shows each peer's view.`,
  );
}

function resolveRandom(containers: ClusterContainer[], options: TargetOptions): ResolvedTarget {
  const eligible = options.eligible ?? isRunning;
  const candidates = peersOf(containers)
    .filter(eligible)
    .sort((a, b) => compareNames(a.name, b.name));
  if (candidates.length === 0) {
    throw new EnclaveElectError(
      'E_NOT_FOUND',
      `no peer is eligible for a random pick. ${listing(containers)}`,
    );
  }
  const seed = options.seed ?? newSeed();
  const pick = candidates[Math.floor(seededRandom(seed).next() * candidates.length)]!;
  return { container: pick, how: `random of ${candidates.length}, seed ${seed}`, seed };
}

function byName(containers: ClusterContainer[], target: string): ClusterContainer[] {
  const exact = containers.filter(
    (c) => c.name === target || c.container === target || c.container === target.replace(/^\//, ''),
  );
  if (exact.length > 0) return exact;
  if (target === 'enclave') return containers.filter((c) => c.role === 'enclave');
  if (/^[0-9a-f]{4,64}$/.test(target)) return containers.filter((c) => c.id.startsWith(target));
  return [];
}

export async function resolveTarget(
  containers: ClusterContainer[],
  target: string,
  options: TargetOptions,
): Promise<ResolvedTarget> {
  if (target === 'leader') return resolveLeader(containers, options.reader);
  if (target === 'random') return resolveRandom(containers, options);
  let matches = byName(containers, target);
  if (matches.length === 0) {
    // A compose peer's member name is only known from its own /status.
    const unlabelled = peersOf(containers).filter((c) => isRunning(c) && c.name === c.container);
    const reports = await readPeerReports(unlabelled, options.reader);
    matches = unlabelled.filter((_, i) => reports[i]!.name === target);
  }
  if (matches.length === 1) return { container: matches[0]!, how: target };
  if (matches.length > 1) {
    throw new EnclaveElectError(
      'E_CONFLICT',
      `'${target}' matches ${matches.length} containers (${matches.map((c) => c.container).join(', ')}); name one of them.`,
    );
  }
  throw new EnclaveElectError(
    'E_NOT_FOUND',
    `no peer or container '${target}' in this cluster. ${listing(containers)} Also accepted: leader, random, enclave, a container name.`,
  );
}
