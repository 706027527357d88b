// `cluster kill|stop|pause|unpause TARGET --swarm STACK`: a container fault on
// one task of a swarm stack, wherever it runs, through the manager's engine API
// alone: a one-shot job on the task's node makes the one engine call
// (swarm-node-job.ts).
import { EnclaveElectError } from '../errors.ts';
import { newSeed, seededRandom } from '../random/seeded-random.ts';
import { compareNames } from './cluster-inventory.ts';
import type { DockerClient } from './docker-client.ts';
import { agreementOf, type PeerReport } from './status-report.ts';
import { runNodeJob } from './swarm-node-job.ts';
import { readStack, type StackReadClient } from './swarm-status.ts';
import type { StackTask } from './swarm-tasks.ts';

export const SWARM_FAULTS = ['kill', 'stop', 'pause', 'unpause'] as const;
export type SwarmFaultName = (typeof SWARM_FAULTS)[number];

export type SwarmFaultClient = StackReadClient & Pick<DockerClient, 'createService'>;

export interface SwarmFaultRequest {
  fault: SwarmFaultName;
  /** A member name, a task name (ee_peer.3), a task id prefix, enclave, leader or random. */
  target: string;
  seed?: string;
  signal?: string;
  graceSeconds?: number;
}

export interface SwarmFaultResult {
  fault: SwarmFaultName;
  stack: string;
  /** <service>.<slot>@<node> */
  task: string;
  name: string;
  node: string;
  how: string;
  seed: string | null;
  /** When the engine call returned on the task's node (ISO): a stop has ended the process by then. */
  at: string;
  /** When the call was made (ISO): a stop's SIGTERM. */
  startedAt: string;
}

/** The engine call for a fault on a container. */
export function engineCall(
  request: SwarmFaultRequest,
  containerId: string,
): { method: 'POST'; path: string } {
  const id = encodeURIComponent(containerId);
  switch (request.fault) {
    case 'kill':
      return {
        method: 'POST',
        path: `/containers/${id}/kill?signal=${encodeURIComponent(request.signal ?? 'SIGKILL')}`,
      };
    case 'stop':
      return { method: 'POST', path: `/containers/${id}/stop?t=${request.graceSeconds ?? 10}` };
    case 'pause':
      return { method: 'POST', path: `/containers/${id}/pause` };
    case 'unpause':
      return { method: 'POST', path: `/containers/${id}/unpause` };
  }
}

/** Which running task the target names, and how it was chosen. */
export function resolveSwarmTarget(
  tasks: StackTask[],
  reports: PeerReport[],
  target: string,
  seed?: string,
): { task: StackTask; name: string; how: string; seed: string | null } {
  const running = tasks.filter((t) => t.state === 'running');
  const peers = running.filter((t) => t.service === 'peer');
  const memberName = (task: StackTask) =>
    reports.find((r) => r.container === `${task.name}@${task.node}`)?.name ?? task.name;
  const listing = `Peers: ${peers.map((t) => `${memberName(t)} (${t.name}@${t.node})`).join(', ') || 'none running'}.`;
  if (target === 'leader') {
    const claiming = reports
      .filter((r) => r.status?.isLeader === true)
      .sort((a, b) => (b.status?.leader?.epoch ?? 0) - (a.status?.leader?.epoch ?? 0))[0];
    const leader = claiming?.name ?? agreementOf(reports).leader;
    const task = peers.find((t) => memberName(t) === leader);
    if (!task) {
      throw new EnclaveElectError('E_NOT_FOUND', `no running peer task reports a leader. ${listing}`);
    }
    const epoch = claiming?.status?.leader?.epoch ?? agreementOf(reports).epoch;
    return { task, name: memberName(task), how: `leader (epoch ${epoch})`, seed: null };
  }
  if (target === 'random') {
    if (peers.length === 0)
      throw new EnclaveElectError('E_NOT_FOUND', `no running peer task to pick. ${listing}`);
    const chosenSeed = seed ?? newSeed();
    const sorted = [...peers].sort((a, b) => compareNames(a.name, b.name));
    const task = sorted[Math.floor(seededRandom(chosenSeed).next() * sorted.length)]!;
    return {
      task,
      name: memberName(task),
      how: `random of ${sorted.length}, seed ${chosenSeed}`,
      seed: chosenSeed,
    };
  }
  const matches = running.filter(
    (t) =>
      memberName(t) === target ||
      t.name === target ||
      (target === 'enclave' && t.service === 'enclave') ||
      (/^[0-9a-z]{4,}$/.test(target) && t.id.startsWith(target)),
  );
  if (matches.length === 1)
    return { task: matches[0]!, name: memberName(matches[0]!), how: target, seed: null };
  if (matches.length > 1) {
    throw new EnclaveElectError(
      'E_CONFLICT',
      `'${target}' matches ${matches.length} tasks (${matches.map((t) => `${t.name}@${t.node}`).join(', ')}); name one of them.`,
    );
  }
  throw new EnclaveElectError(
    'E_NOT_FOUND',
    `no running task or peer '${target}' in the stack. ${listing} Also accepted: leader, random, enclave, a task name or id prefix.`,
  );
}

export interface SwarmFaultOptions {
  progress?: (line: string) => void;
  /** How long the job may take to be scheduled and finish (default 60 s). */
  timeoutMs?: number;
  pollMs?: number;
}

export async function applySwarmFault(
  docker: SwarmFaultClient,
  stack: string,
  request: SwarmFaultRequest,
  options: SwarmFaultOptions = {},
): Promise<SwarmFaultResult> {
  const { tasks, reports } = await readStack(docker, stack);
  const chosen = resolveSwarmTarget(tasks, reports, request.target, request.seed);
  const { task } = chosen;
  if (!task.containerId) {
    throw new EnclaveElectError(
      'E_STATE',
      `${task.name}@${task.node} has no container yet (task ${task.state})`,
    );
  }
  options.progress?.(`${request.fault} ${chosen.name} (${chosen.how}): ${task.name} on ${task.node}`);
  const call = engineCall(request, task.containerId);
  const outcome = await runOnNode(docker, task, call, options);
  return {
    fault: request.fault,
    stack,
    task: `${task.name}@${task.node}`,
    name: chosen.name,
    node: task.node,
    how: chosen.how,
    seed: chosen.seed,
    at: outcome.at,
    startedAt: outcome.startedAt,
  };
}

/** Make the engine call from a one-shot job on the task's node; when it was made, by the node's clock. */
async function runOnNode(
  docker: SwarmFaultClient,
  task: StackTask,
  call: { method: string; path: string },
  options: SwarmFaultOptions,
): Promise<{ at: string; startedAt: string }> {
  const [result] = await runNodeJob(
    docker,
    { nodeId: task.nodeId, node: task.node, image: task.image, steps: [{ op: 'call', ...call }] },
    options,
  );
  if (result === undefined || (result.status ?? 500) >= 300) {
    throw new EnclaveElectError(
      'E_DOCKER',
      `the fault job on ${task.node} failed: HTTP ${result?.status} ${result?.body?.trim() ?? ''} (${call.method} ${call.path}; the container may have gone, or be in the wrong state)`,
    );
  }
  return { at: result.at, startedAt: result.startedAt ?? result.at };
}
