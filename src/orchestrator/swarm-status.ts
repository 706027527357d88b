// `cluster status --swarm STACK`: every peer task's /status, across all the
// swarm's nodes, through the manager's engine API alone. The peers publish no
// port and their containers live on other nodes' engines, so one short-lived
// reader container (the stack's own image) joins the stack's attachable overlay
// network on the manager, reads each task's /status at its overlay address, and
// prints one JSON document; it is removed afterwards.
import type { ClusterContainer } from './cluster-inventory.ts';
import type { DockerClient } from './docker-client.ts';
import { dockerMessage } from './docker-client.ts';
import { demultiplex } from './docker-stream.ts';
import { LABEL } from './labels.ts';
import { ADMIN_PORT, type PeerStatus } from './peer-status.ts';
import { agreementOf, type ClusterStatusReport, type PeerReport } from './status-report.ts';
import { currentTasks, listStackTasks, type StackTask, type SwarmClient } from './swarm-tasks.ts';

export type StackReadClient = SwarmClient & Pick<DockerClient, 'createContainer' | 'getContainer'>;

/** Per address: the parsed /status, or why it could not be read. */
export type StatusByAddress = Record<string, { status: PeerStatus } | { error: string }>;

// Runs in the reader container: argv = [port, timeoutMs, ...addresses].
const READER_SCRIPT = `
const [port, timeoutMs, ...addresses] = process.argv.slice(1);
Promise.all(addresses.map(async (ip) => {
  try {
    const r = await fetch('http://' + ip + ':' + port + '/status', { signal: AbortSignal.timeout(Number(timeoutMs)) });
    if (!r.ok) return [ip, { error: 'HTTP ' + r.status }];
    return [ip, { status: await r.json() }];
  } catch (e) { return [ip, { error: String(e?.cause?.code ?? e?.name ?? e) }]; }
})).then((entries) => process.stdout.write(JSON.stringify(Object.fromEntries(entries))));
`;

export interface ReadOptions {
  port?: number;
  timeoutMs?: number;
}

/** Read /status at each address from inside `network`, with `image` (which has node). */
export async function readThroughNetwork(
  docker: Pick<DockerClient, 'createContainer' | 'getContainer'>,
  image: string,
  network: string,
  addresses: string[],
  options: ReadOptions = {},
): Promise<StatusByAddress> {
  if (addresses.length === 0) return {};
  const port = options.port ?? ADMIN_PORT;
  const timeoutMs = options.timeoutMs ?? 2000;
  let container: Awaited<ReturnType<DockerClient['createContainer']>>;
  try {
    container = await docker.createContainer({
      Image: image,
      Entrypoint: ['node', '-e', READER_SCRIPT],
      Cmd: [String(port), String(timeoutMs), ...addresses],
      Labels: { [LABEL.managed]: 'true' },
      HostConfig: { NetworkMode: network, ReadonlyRootfs: true, CapDrop: ['ALL'] },
    });
  } catch (error) {
    throw new Error(
      `cannot start a reader on network ${network} with image ${image}: ${dockerMessage(error)} ` +
        '(the stack network must be attachable, and the image present on this manager)',
      { cause: error },
    );
  }
  try {
    await container.start();
    await container.wait();
    const raw = (await container.logs({ stdout: true, stderr: true, follow: false })) as Buffer;
    const { stdout, stderr } = demultiplex(raw);
    try {
      return JSON.parse(stdout) as StatusByAddress;
    } catch {
      throw new Error(`the reader on ${network} printed no status document: ${stderr.trim().slice(0, 300)}`);
    }
  } finally {
    await container.remove({ force: true }).catch(() => undefined);
  }
}

/** One report row per current peer task, in the shape `cluster status` prints for containers. */
export function stackPeerReports(tasks: StackTask[], statuses: StatusByAddress): PeerReport[] {
  return tasks.map((task) => {
    const base = { container: `${task.name}@${task.node}`, state: task.state };
    const read = task.address === undefined ? undefined : statuses[task.address];
    if (task.state !== 'running') {
      return { ...base, name: task.name, status: null, error: `task is ${task.state}: ${task.message}` };
    }
    if (!read) return { ...base, name: task.name, status: null, error: 'no address on the stack network' };
    if ('error' in read) return { ...base, name: task.name, status: null, error: read.error };
    const name = typeof read.status.name === 'string' ? read.status.name : task.name;
    return { ...base, name, status: read.status, error: null };
  });
}

/** The stack's current tasks and a report row per peer task, read as `status --swarm` reads them. */
export async function readStack(
  docker: StackReadClient,
  stack: string,
  options: ReadOptions = {},
): Promise<{ tasks: StackTask[]; reports: PeerReport[] }> {
  const tasks = currentTasks(await listStackTasks(docker, stack));
  const peers = tasks.filter((t) => t.service === 'peer');
  const reachable = peers.filter((t) => t.state === 'running' && t.address !== undefined);
  const first = reachable[0];
  const statuses = first
    ? await readThroughNetwork(
        docker,
        first.image,
        first.network!,
        reachable.map((t) => t.address!),
        options,
      )
    : {};
  return { tasks, reports: stackPeerReports(peers, statuses) };
}

/** The report, and the stack's other tasks (the enclave) as the table's footer lines. */
export async function collectSwarmView(
  docker: StackReadClient,
  stack: string,
  options: ReadOptions = {},
): Promise<{
  report: ClusterStatusReport;
  others: Pick<ClusterContainer, 'name' | 'container' | 'statusText'>[];
}> {
  const { tasks, reports } = await readStack(docker, stack, options);
  const { agreed, leader, epoch } = agreementOf(reports);
  return {
    report: { cluster: stack, peers: reports, agreed, leader, epoch },
    others: tasks
      .filter((t) => t.service !== 'peer')
      .map((t) => ({
        name: t.service,
        container: `${t.name}@${t.node}`,
        statusText: `${t.state}${t.message ? ` (${t.message})` : ''} on ${t.node}`,
      })),
  };
}
