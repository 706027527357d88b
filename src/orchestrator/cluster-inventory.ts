// What a cluster is made of right now: its containers (by label), each with its
// role, peer name, state and networks. Every command starts here.
import { EnclaveElectError } from '../errors.ts';
import type { DockerClient } from './docker-client.ts';
import {
  type ClusterSelector,
  containerLabelFilter,
  describeSelector,
  LABEL,
  type Role,
  roleOf,
} from './labels.ts';

export type ContainerState = 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';

export interface ClusterContainer {
  id: string;
  /** Container name, without Docker's leading slash. */
  container: string;
  role: Role | undefined;
  /** Member name: our peer label; for compose peers, the container name until /status says better. */
  name: string;
  state: ContainerState | string;
  /** Docker's human status ("Up 3 minutes", "Exited (137) 2 seconds ago"). */
  statusText: string;
  labels: Record<string, string>;
  /** Names of the networks the container is attached to. */
  networks: string[];
  /** Its IPv4 address on each of those networks (network name -> address), as listed. */
  addresses?: Record<string, string>;
}

const ROLE_ORDER: Record<string, number> = { pki: 0, enclave: 1, ledger: 2, peer: 3 };

/** Natural order: peer-2 before peer-10. */
export function compareNames(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

export async function listClusterContainers(
  docker: Pick<DockerClient, 'listContainers'>,
  selector: ClusterSelector,
): Promise<ClusterContainer[]> {
  const infos = await docker.listContainers({
    all: true,
    filters: JSON.stringify({ label: containerLabelFilter(selector) }),
  });
  const containers = infos.map((info): ClusterContainer => {
    const labels = info.Labels ?? {};
    const container = (info.Names?.[0] ?? info.Id).replace(/^\//, '');
    const role = roleOf(labels);
    // Ours are named by label (peer-3) or role (enclave); compose's by container name.
    const ours = labels[LABEL.cluster] !== undefined;
    return {
      id: info.Id,
      container,
      role,
      name: labels[LABEL.peer] ?? (ours && role !== undefined && role !== 'peer' ? role : container),
      state: info.State,
      statusText: info.Status,
      labels,
      networks: Object.keys(info.NetworkSettings?.Networks ?? {}),
      addresses: Object.fromEntries(
        Object.entries(info.NetworkSettings?.Networks ?? {})
          .filter(([, endpoint]) => endpoint?.IPAddress)
          .map(([network, endpoint]) => [network, endpoint.IPAddress]),
      ),
    };
  });
  return containers.sort(
    (a, b) =>
      (ROLE_ORDER[a.role ?? ''] ?? 4) - (ROLE_ORDER[b.role ?? ''] ?? 4) || compareNames(a.name, b.name),
  );
}

/** The cluster's containers, or E_NOT_FOUND saying how to find or start one. */
export async function requireCluster(
  docker: Pick<DockerClient, 'listContainers'>,
  selector: ClusterSelector,
): Promise<ClusterContainer[]> {
  const containers = await listClusterContainers(docker, selector);
  if (containers.length > 0) return containers;
  const hint =
    selector.kind === 'name'
      ? `Start it with \`enclave-elect cluster up --name ${selector.name}\`; \`docker ps -a --filter label=${LABEL.cluster}\` lists existing clusters.`
      : '`docker compose ls -a` lists compose projects.';
  throw new EnclaveElectError('E_NOT_FOUND', `${describeSelector(selector)} has no containers. ${hint}`);
}

export function peersOf(containers: ClusterContainer[]): ClusterContainer[] {
  return containers.filter((c) => c.role === 'peer');
}
