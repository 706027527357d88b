// Container faults on one target: stop, kill [--signal], pause [--for],
// unpause, restart, start. Each checks the container's state first, so a
// fault on a container that cannot take it fails with a message naming the
// state and the command that would help.
import { setTimeout as sleep } from 'node:timers/promises';
import { EnclaveElectError } from '../errors.ts';
import { type ClusterContainer, requireCluster } from './cluster-inventory.ts';
import { type DockerClient, dockerMessage, dockerStatus } from './docker-client.ts';
import { formatDuration } from './duration.ts';
import type { ClusterSelector } from './labels.ts';
import type { StatusReader } from './peer-status.ts';
import { resolveTarget } from './targets.ts';

export const FAULTS = ['stop', 'kill', 'pause', 'unpause', 'restart', 'start'] as const;
export type FaultName = (typeof FAULTS)[number];

/** The states in which each fault makes sense. */
const ACCEPTS: Record<FaultName, readonly string[]> = {
  stop: ['running'],
  kill: ['running', 'paused'],
  pause: ['running'],
  unpause: ['paused'],
  restart: ['running', 'exited', 'created'],
  start: ['exited', 'created'],
};

const DESCRIBE: Record<FaultName, string> = {
  stop: 'Stop a peer gracefully (SIGTERM, then SIGKILL after --grace)',
  kill: 'Kill a peer (SIGKILL unless --signal)',
  pause: 'Freeze a peer (cgroup freezer); with --for, unpause after that long',
  unpause: 'Resume a paused peer',
  restart: 'Restart a peer (stop, then start)',
  start: 'Start a stopped peer',
};

export function describeFault(fault: FaultName): string {
  return DESCRIBE[fault];
}

export interface FaultRequest {
  fault: FaultName;
  target: string;
  seed?: string;
  /** kill: the signal (default SIGKILL). */
  signal?: string;
  /** stop, restart: seconds before Docker sends SIGKILL. */
  graceSeconds?: number;
  /** pause: unpause after this long. */
  pauseForMs?: number;
}

export interface FaultResult {
  fault: FaultName;
  container: string;
  name: string;
  /** How the target was chosen ("leader (epoch 7)", "random of 5, seed 1f"). */
  how: string;
  seed: string | null;
  before: string;
  after: string;
}

export interface FaultContext {
  reader: StatusReader;
  progress: (line: string) => void;
  /** Cuts a `pause --for` short (Ctrl-C); the peer is unpaused anyway. */
  signal?: AbortSignal;
}

function stateHint(fault: FaultName, target: ClusterContainer, selectorFlag: string): string {
  const name = target.name;
  if (target.state === 'paused') {
    return `\`enclave-elect cluster unpause ${name} ${selectorFlag}\` resumes it${fault === 'stop' ? `, or \`cluster kill ${name}\` kills it as it is` : ''}.`;
  }
  if (target.state === 'running') return fault === 'start' ? 'It is already running.' : '';
  return `\`enclave-elect cluster start ${name} ${selectorFlag}\` starts it.`;
}

function notAccepted(fault: FaultName, target: ClusterContainer, selectorFlag: string): EnclaveElectError {
  return new EnclaveElectError(
    'E_STATE',
    `cannot ${fault} ${target.name} (container ${target.container}): it is ${target.state}, and ${fault} needs it ${ACCEPTS[fault].join(' or ')}. ${stateHint(fault, target, selectorFlag)}`.trim(),
  );
}

async function act(
  docker: Pick<DockerClient, 'getContainer'>,
  request: FaultRequest,
  id: string,
  context: FaultContext,
) {
  const container = docker.getContainer(id);
  const grace = request.graceSeconds === undefined ? {} : { t: request.graceSeconds };
  switch (request.fault) {
    case 'stop':
      return container.stop(grace);
    case 'kill':
      return container.kill({ signal: request.signal ?? 'SIGKILL' });
    case 'pause': {
      await container.pause();
      if (request.pauseForMs === undefined) return;
      context.progress(`paused; unpausing in ${formatDuration(request.pauseForMs)} (Ctrl-C unpauses now)`);
      await sleep(request.pauseForMs, undefined, { signal: context.signal }).catch(() => undefined);
      return container.unpause();
    }
    case 'unpause':
      return container.unpause();
    case 'restart':
      return container.restart(grace);
    case 'start':
      return container.start();
  }
}

export async function applyFault(
  docker: Pick<DockerClient, 'listContainers' | 'getContainer'>,
  selector: ClusterSelector,
  selectorFlag: string,
  request: FaultRequest,
  context: FaultContext,
): Promise<FaultResult> {
  const containers = await requireCluster(docker, selector);
  const accepts = ACCEPTS[request.fault];
  const target = await resolveTarget(containers, request.target, {
    reader: context.reader,
    ...(request.seed === undefined ? {} : { seed: request.seed }),
    eligible: (c) => accepts.includes(c.state),
  });
  const chosen = target.container;
  if (!accepts.includes(chosen.state)) throw notAccepted(request.fault, chosen, selectorFlag);
  context.progress(`${request.fault} ${chosen.name} (container ${chosen.container}; target: ${target.how})`);
  try {
    await act(docker, request, chosen.id, context);
  } catch (error) {
    const status = dockerStatus(error);
    const code = status === 404 ? 'E_NOT_FOUND' : status === 409 || status === 304 ? 'E_STATE' : 'E_DOCKER';
    throw new EnclaveElectError(code, `${request.fault} ${chosen.name} failed: ${dockerMessage(error)}`, {
      cause: error,
    });
  }
  const after = await docker.getContainer(chosen.id).inspect();
  return {
    fault: request.fault,
    container: chosen.container,
    name: chosen.name,
    how: target.how,
    seed: target.seed ?? null,
    before: chosen.state,
    after: after.State.Status,
  };
}
