// `cluster scale N`: add peers (peer-K numbered after the highest) or remove
// them (stopped ones first, then non-leaders from the highest number, the
// leader last unless told otherwise), then wait for agreement among N.
// Clusters started by docker compose scale with compose itself.

import { POLICIES, type Policy } from '../crypto/leader-certificate.ts';
import { EnclaveElectError } from '../errors.ts';
import { type ClusterContainer, peersOf, requireCluster } from './cluster-inventory.ts';
import type { ClusterSettings } from './cluster-spec.ts';
import { networkName, peerContainerSpec, peerIndex } from './cluster-spec.ts';
import { createContainer } from './cluster-up.ts';
import { waitForAgreement } from './convergence.ts';
import type { DockerClient } from './docker-client.ts';
import { type ClusterSelector, LABEL } from './labels.ts';
import type { StatusReader } from './peer-status.ts';
import type { ClusterStatusReport } from './status-report.ts';
import { agreementOf, readPeerReports } from './status-report.ts';

type Docker = Pick<DockerClient, 'listContainers' | 'getContainer' | 'createContainer' | 'listNetworks'>;

export interface ScaleOptions {
  peers: number;
  /** Remove the leader only after every other peer (default true). */
  leaderLast: boolean;
  timeoutMs: number;
  graceSeconds?: number;
}

export interface ScaleContext {
  reader: StatusReader;
  progress: (line: string) => void;
  intervalMs?: number;
  signal?: AbortSignal;
}

/** The settings `cluster up` stored on the cluster's network, for new peers to match. */
export async function storedSettings(
  docker: Pick<DockerClient, 'listNetworks'>,
  cluster: string,
): Promise<ClusterSettings> {
  const networks = await docker.listNetworks({
    filters: JSON.stringify({ label: [`${LABEL.cluster}=${cluster}`, `${LABEL.role}=network`] }),
  });
  const labels = networks.find((n) => n.Name === networkName(cluster))?.Labels ?? networks[0]?.Labels;
  const image = labels?.[LABEL.image];
  const policy = labels?.[LABEL.policy] as Policy | undefined;
  const leaseMs = Number(labels?.[LABEL.leaseMs]);
  if (!labels || !image || !policy || !POLICIES.includes(policy) || !Number.isFinite(leaseMs)) {
    throw new EnclaveElectError(
      'E_NOT_FOUND',
      `cluster '${cluster}' has no network with its settings (labels ${LABEL.image}, ${LABEL.policy}, ${LABEL.leaseMs}); was it made by \`cluster up\`?`,
    );
  }
  const own = new Set<string>(Object.values(LABEL));
  const extraLabels = Object.fromEntries(Object.entries(labels).filter(([key]) => !own.has(key)));
  return {
    cluster,
    image,
    policy,
    leaseMs,
    extraLabels,
    ...(labels[LABEL.demo] === 'true' ? { demo: true } : {}),
  };
}

/** Which peers go, in order: not running first, then highest number first, the leader last if asked. */
export function removalOrder(
  peers: ClusterContainer[],
  leader: string | null,
  leaderLast: boolean,
): ClusterContainer[] {
  const rank = (p: ClusterContainer) =>
    (p.state === 'running' ? 1 : 0) + (leaderLast && p.name === leader ? 2 : 0);
  return [...peers].sort(
    (a, b) =>
      rank(a) - rank(b) ||
      (peerIndex(b.name) ?? 0) - (peerIndex(a.name) ?? 0) ||
      b.name.localeCompare(a.name),
  );
}

export async function scaleCluster(
  docker: Docker,
  selector: ClusterSelector,
  options: ScaleOptions,
  context: ScaleContext,
): Promise<ClusterStatusReport> {
  if (selector.kind === 'project') {
    throw new EnclaveElectError(
      'E_UNSUPPORTED',
      `scale works on clusters made by \`cluster up\`; compose project '${selector.project}' scales with compose: docker compose -p ${selector.project} up -d --scale peer=${options.peers}`,
    );
  }
  const cluster = selector.name;
  const peers = peersOf(await requireCluster(docker, selector));
  if (options.peers > peers.length) {
    const settings = await storedSettings(docker, cluster);
    let next = Math.max(0, ...peers.map((p) => peerIndex(p.name) ?? 0)) + 1;
    for (let added = peers.length; added < options.peers; added++, next++) {
      const spec = peerContainerSpec(settings, next);
      await (await createContainer(docker, spec)).start();
      context.progress(`${spec.Hostname} started`);
    }
  } else if (options.peers < peers.length) {
    const running = peers.filter((p) => p.state === 'running');
    const reports = await readPeerReports(running, context.reader);
    const leader = agreementOf(reports).leader;
    const going = removalOrder(peers, leader, options.leaderLast).slice(0, peers.length - options.peers);
    for (const peer of going) {
      const container = docker.getContainer(peer.id);
      // Graceful: a leader resigns and hands over, every peer announces leave.
      if (peer.state === 'running' || peer.state === 'paused') {
        if (peer.state === 'paused') await container.unpause();
        await container.stop(options.graceSeconds === undefined ? {} : { t: options.graceSeconds });
      }
      await container.remove({ v: true });
      context.progress(`${peer.name} stopped and removed${peer.name === leader ? ' (was the leader)' : ''}`);
    }
  } else {
    context.progress(`already ${peers.length} peers`);
  }
  return waitForAgreement(docker, selector, {
    expectPeers: options.peers,
    timeoutMs: options.timeoutMs,
    reader: context.reader,
    progress: context.progress,
    hint: `\`enclave-elect cluster logs --name ${cluster}\` shows what the peers did; \`cluster status --name ${cluster}\` shows each one's view.`,
    ...(context.intervalMs === undefined ? {} : { intervalMs: context.intervalMs }),
    ...(context.signal === undefined ? {} : { signal: context.signal }),
  });
}
