// Clusters in the fake engine, laid out as `cluster up` makes them, and
// /status documents as peers serve them.
import type { ClusterContainer } from '../../src/orchestrator/cluster-inventory.ts';
import { LABEL } from '../../src/orchestrator/labels.ts';
import type { PeerStatus, StatusReader } from '../../src/orchestrator/peer-status.ts';
import type { FakeDocker } from './fake-docker.ts';

export function ourCluster(
  docker: FakeDocker,
  cluster: string,
  peers: number,
  states: Record<string, string> = {},
) {
  const net = `enclave-elect-${cluster}`;
  docker.addNetwork(net, {
    [LABEL.managed]: 'true',
    [LABEL.cluster]: cluster,
    [LABEL.role]: 'network',
    [LABEL.image]: 'enclave-elect:local',
    [LABEL.policy]: 'vrf',
    [LABEL.leaseMs]: '2000',
    'io.enclave-elect.test': 'run1',
  });
  const base = { [LABEL.managed]: 'true', [LABEL.cluster]: cluster };
  docker.addContainer({
    name: `${net}-pki`,
    labels: { ...base, [LABEL.role]: 'pki' },
    state: 'exited',
    networks: { [net]: { ip: '10.0.0.9', aliases: [] } },
  });
  docker.addContainer({
    name: `${net}-enclave`,
    labels: { ...base, [LABEL.role]: 'enclave' },
    networks: { [net]: { ip: '10.0.0.2', aliases: ['enclave'] } },
  });
  for (let i = 1; i <= peers; i++) {
    const name = `peer-${i}`;
    docker.addContainer({
      name: `${net}-${name}`,
      labels: { ...base, [LABEL.role]: 'peer', [LABEL.peer]: name },
      state: states[name] ?? 'running',
      networks: { [net]: { ip: `10.0.0.${i + 2}`, aliases: ['peer', name] } },
    });
  }
}

/** A running peer as the inventory lists it; `addresses` (network -> IPv4) as listed, when given. */
export function runningPeer(addresses?: Record<string, string>): ClusterContainer {
  return {
    id: 'c0ffee',
    container: 'demo-peer-1',
    role: 'peer',
    name: 'peer-1',
    state: 'running',
    statusText: 'Up',
    labels: {},
    networks: Object.keys(addresses ?? {}),
    ...(addresses ? { addresses } : {}),
  };
}

export function peerStatus(
  name: string,
  leader: string | null,
  epoch = 7,
  extra: Partial<PeerStatus> = {},
): PeerStatus {
  return {
    name,
    incarnation: 1,
    address: '10.0.0.3:7946',
    members: [
      { name: 'peer-1', state: 'alive' },
      { name: 'peer-2', state: 'alive' },
      { name: 'peer-3', state: 'dead' },
    ],
    counters: { datagramsIn: 10, dropped: { malformed: 2, unverified: 1 } },
    leader:
      leader === null
        ? null
        : {
            name: leader,
            epoch,
            seq: 3,
            leaseEndsAt: Date.now() + 60_000,
            policy: 'vrf',
            verified: true,
            certificate: 'x.y.z',
          },
    isLeader: name === leader,
    enclave: { url: 'http://enclave:8000', trusted: true, checksum: 'ab', pinnedChecksum: 'ab', error: null },
    ...extra,
  };
}

/** A reader answering from a table by peer name; a missing entry fails like an unreachable admin server. */
export function tableReader(table: Record<string, PeerStatus | Error>): StatusReader & { asked: string[] } {
  const asked: string[] = [];
  const reader = async (container: ClusterContainer) => {
    asked.push(container.name);
    const entry = table[container.name];
    if (entry === undefined)
      throw new Error('nothing listens on 127.0.0.1:7947 in the container (ECONNREFUSED)');
    if (entry instanceof Error) throw entry;
    return entry;
  };
  return Object.assign(reader, { asked });
}
