// Two ways to run a whole cluster for the election benchmark, behind one
// interface: as local processes (LocalCluster) or as containers (the
// orchestrator's `cluster up`). Timings come from the peers' own log events on
// the shared host clock, so polling speed does not blur them.
import { readFileSync } from 'node:fs';
import type Docker from 'dockerode';
import { eventFromLogLine, type HistoryEvent } from '../../src/chaos/history.ts';
import { LocalCluster, type LocalProcess, peerStatus } from '../../src/local/local-cluster.ts';
import { upCluster } from '../../src/orchestrator/cluster-up.ts';
import { connectDocker } from '../../src/orchestrator/docker-client.ts';
import { demultiplex } from '../../src/orchestrator/docker-stream.ts';
import { LABEL } from '../../src/orchestrator/labels.ts';
import type { PeerStatus } from '../../src/orchestrator/peer-status.ts';
import { statusReaderFor } from '../../src/orchestrator/status-reader.ts';
import { downCluster } from '../../src/orchestrator/teardown.ts';

export interface ClusterDriver {
  /** Names of the peers that are running. */
  running(): string[];
  status(peer: string): Promise<PeerStatus | null>;
  /** Signal a peer; resolves with the host time just before the signal was sent. */
  signal(peer: string, signal: 'SIGKILL' | 'SIGTERM'): Promise<number>;
  /** Bring the cluster back to full size after a peer went away. */
  revive(peer: string): Promise<void>;
  events(): Promise<HistoryEvent[]>;
  /** Enclave HTTP requests (elect/renew/resign/attestation) logged at or after `since`. */
  enclaveRequests(since: number): Promise<number>;
  stop(): Promise<void>;
}

function parseLines(text: string, peer: string): HistoryEvent[] {
  const events: HistoryEvent[] = [];
  for (const line of text.split('\n')) {
    const event = line ? eventFromLogLine(line, peer, 0) : null;
    if (event) events.push(event);
  }
  return events;
}

function countEnclaveRequests(text: string, since: number): number {
  let n = 0;
  for (const line of text.split('\n')) {
    if (!line.includes('"enclave.request"') || line.includes('/healthz')) continue;
    const time = Date.parse((JSON.parse(line) as { time: string }).time);
    if (time >= since) n++;
  }
  return n;
}

export async function processDriver(
  peers: number,
  leaseMs: number,
  progress: (s: string) => void,
): Promise<ClusterDriver> {
  const cluster = new LocalCluster({ peers, policy: 'vrf', leaseMs, env: { LOG_LEVEL: 'info' } });
  await cluster.start(progress);
  const byName = (name: string): LocalProcess => {
    const p = cluster.peers().find((x) => x.name === name);
    if (!p) throw new Error(`no peer ${name}`);
    return p;
  };
  return {
    running: () =>
      cluster
        .peers()
        .filter((p) => !p.exited)
        .map((p) => p.name),
    status: async (peer) => peerStatus(byName(peer).port, 1000).catch(() => null),
    signal: async (peer, signal) => {
      const at = Date.now();
      await cluster.signal(byName(peer), signal, 5000);
      return at;
    },
    revive: async () => {
      await cluster.addPeer();
    },
    events: async () => cluster.peers().flatMap((p) => parseLines(readFileSync(p.log, 'utf8'), p.name)),
    enclaveRequests: async (since) => {
      const enclave = cluster.processes.find((p) => p.role === 'enclave')!;
      return countEnclaveRequests(readFileSync(enclave.log, 'utf8'), since);
    },
    stop: () => cluster.stop(),
  };
}

export async function dockerDriver(
  peers: number,
  leaseMs: number,
  progress: (s: string) => void,
  image = 'enclave-elect:local',
): Promise<ClusterDriver & { cluster: string }> {
  const docker = connectDocker();
  const name = `bench-${Date.now().toString(36)}`;
  const reader = statusReaderFor(docker);
  try {
    await upCluster(
      docker,
      {
        cluster: name,
        image,
        extraLabels: { 'io.enclave-elect.bench': name },
        policy: 'vrf',
        leaseMs,
        peers,
        build: false,
        timeoutMs: 120_000,
      },
      { reader, progress },
    );
  } catch (error) {
    await downCluster(docker, name, () => {});
    throw error;
  }
  const list = async (role: string) =>
    docker.listContainers({
      all: true,
      filters: JSON.stringify({ label: [`${LABEL.cluster}=${name}`, `${LABEL.role}=${role}`] }),
    });
  const peerContainers = new Map<string, { id: string; running: boolean }>();
  for (const info of await list('peer')) {
    peerContainers.set(info.Labels[LABEL.peer] ?? info.Id, {
      id: info.Id,
      running: info.State === 'running',
    });
  }
  const logs = async (id: string) =>
    demultiplex((await docker.getContainer(id).logs({ stdout: true, stderr: true })) as unknown as Buffer)
      .stdout;
  return {
    // The cluster's name, for orchestrator commands on it (the netfaults bench applies `cluster net`).
    cluster: name,
    running: () => [...peerContainers.entries()].filter(([, c]) => c.running).map(([n]) => n),
    status: async (peer) => {
      const c = peerContainers.get(peer);
      if (!c) return null;
      return reader({ id: c.id, container: peer, name: peer, state: 'running' } as never).catch(() => null);
    },
    signal: async (peer, signal) => {
      const c = peerContainers.get(peer)!;
      const at = Date.now();
      if (signal === 'SIGKILL') await docker.getContainer(c.id).kill();
      else await docker.getContainer(c.id).stop({ t: 5 });
      c.running = false;
      return at;
    },
    revive: async (peer) => {
      const c = peerContainers.get(peer)!;
      await docker.getContainer(c.id).start();
      c.running = true;
    },
    events: async () => {
      const all: HistoryEvent[] = [];
      for (const [peer, c] of peerContainers) all.push(...parseLines(await logs(c.id), peer));
      return all;
    },
    enclaveRequests: async (since) => {
      const [enclave] = await list('enclave');
      return enclave ? countEnclaveRequests(await logs(enclave.Id), since) : 0;
    },
    stop: async () => {
      await downCluster(docker as unknown as Docker, name, () => {});
    },
  };
}
