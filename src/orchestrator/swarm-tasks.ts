// What a stack deployed from deploy/swarm/stack.yml is made of right now, as a
// swarm manager's engine API lists it: the stack's services (by the stack label
// `docker stack deploy` sets), their tasks, the node each task runs on, and each
// task's address on the stack's overlay network. Read-only.
import type Docker from 'dockerode';
import { EnclaveElectError } from '../errors.ts';
import { compareNames } from './cluster-inventory.ts';

/** The label `docker stack deploy` puts on a stack's services and networks. */
export const STACK_LABEL = 'com.docker.stack.namespace';

/** The part of dockerode these reads use; tests pass a fake. */
export type SwarmClient = Pick<Docker, 'listServices' | 'listTasks' | 'listNodes'>;

export interface StackTask {
  id: string;
  /** Service name without the stack prefix: peer, enclave. */
  service: string;
  /** ee_peer.3: how `docker service ps` names the task. */
  name: string;
  /** The node's hostname. */
  node: string;
  nodeId: string;
  /** The node's state as the swarm sees it (ready, down, unknown), when the node is listed. */
  nodeState?: string;
  /** The task's container on its node's engine, once it has one. */
  containerId: string | undefined;
  /** running, starting, shutdown, failed, ... */
  state: string;
  desiredState: string;
  /** Swarm's message for the state ("started", "task: non-zero exit (137)"). */
  message: string;
  /** IPv4 address on the stack's overlay network (no prefix length), if attached. */
  address: string | undefined;
  /** That network's name (<stack>_cluster). */
  network: string | undefined;
  image: string;
  /** When the task last changed state (ms), as the swarm records it. */
  changedAt?: number;
  /** The container's exit code, once it has ended. */
  exitCode?: number;
}

const STACK_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/;

export function isValidStackName(name: string): boolean {
  return STACK_NAME.test(name);
}

interface RawTask {
  ID?: string;
  ServiceID?: string;
  NodeID?: string;
  Slot?: number;
  DesiredState?: string;
  Status?: {
    State?: string;
    Message?: string;
    Err?: string;
    Timestamp?: string;
    ContainerStatus?: { ContainerID?: string; ExitCode?: number };
  };
  Spec?: { ContainerSpec?: { Image?: string } };
  NetworksAttachments?: {
    Network?: { Spec?: { Name?: string; Labels?: Record<string, string> } };
    Addresses?: string[];
  }[];
}

/** The task's address on the stack's own network (not ingress), as a bare IPv4. */
function stackAddress(
  task: RawTask,
  stack: string,
): { address?: string | undefined; network?: string | undefined } {
  for (const attachment of task.NetworksAttachments ?? []) {
    const spec = attachment.Network?.Spec;
    if (spec?.Labels?.[STACK_LABEL] !== stack) continue;
    return { address: attachment.Addresses?.[0]?.split('/')[0], network: spec.Name };
  }
  return {};
}

/** The stack's tasks, peers last and by slot; E_NOT_FOUND naming the stack when it has no service here. */
export async function listStackTasks(docker: SwarmClient, stack: string): Promise<StackTask[]> {
  let services: Docker.Service[];
  try {
    services = await docker.listServices({ filters: JSON.stringify({ label: [`${STACK_LABEL}=${stack}`] }) });
  } catch (error) {
    const message = (error as { json?: { message?: string } }).json?.message ?? (error as Error).message;
    throw new EnclaveElectError(
      'E_NOT_FOUND',
      `cannot list the services of stack '${stack}': ${message.replace(/\.*$/, '')}. --swarm needs DOCKER_HOST to name a swarm manager's engine`,
      { cause: error },
    );
  }
  if (services.length === 0) {
    throw new EnclaveElectError(
      'E_NOT_FOUND',
      `stack '${stack}' has no services on this swarm; \`docker stack ls\` lists the stacks, \`docker stack deploy -c deploy/swarm/stack.yml ${stack}\` makes one`,
    );
  }
  const serviceNames = new Map(services.map((s) => [s.ID, s.Spec?.Name ?? s.ID]));
  const nodes = new Map(
    (
      (await docker.listNodes()) as {
        ID: string;
        Description?: { Hostname?: string };
        Status?: { State?: string };
      }[]
    ).map((n) => [n.ID, { hostname: n.Description?.Hostname ?? n.ID, state: n.Status?.State }]),
  );
  const tasks = (await docker.listTasks({
    filters: JSON.stringify({ service: [...serviceNames.keys()] }),
  })) as RawTask[];
  return tasks
    .map((task): StackTask => {
      const full = serviceNames.get(task.ServiceID ?? '') ?? '';
      const where = stackAddress(task, stack);
      const node = nodes.get(task.NodeID ?? '');
      const service = full.startsWith(`${stack}_`) ? full.slice(stack.length + 1) : full;
      return {
        id: task.ID ?? '',
        service,
        name: `${full}.${task.Slot ?? task.NodeID ?? ''}`,
        node: node?.hostname ?? task.NodeID ?? '-',
        nodeId: task.NodeID ?? '',
        ...(node?.state ? { nodeState: node.state } : {}),
        containerId: task.Status?.ContainerStatus?.ContainerID || undefined,
        state: task.Status?.State ?? 'unknown',
        desiredState: task.DesiredState ?? 'unknown',
        message: task.Status?.Err || task.Status?.Message || '',
        image: task.Spec?.ContainerSpec?.Image ?? '',
        address: where.address,
        network: where.network,
        ...(task.Status?.Timestamp ? { changedAt: Date.parse(task.Status.Timestamp) } : {}),
        ...(typeof task.Status?.ContainerStatus?.ExitCode === 'number'
          ? { exitCode: task.Status.ContainerStatus.ExitCode }
          : {}),
      };
    })
    .sort(
      (a, b) => Number(a.service === 'peer') - Number(b.service === 'peer') || compareNames(a.name, b.name),
    );
}

/** Tasks the swarm means to run now (a replaced or removed task's history is left out). */
export function currentTasks(tasks: StackTask[]): StackTask[] {
  return tasks.filter((t) => t.desiredState === 'running' || t.desiredState === 'ready');
}
