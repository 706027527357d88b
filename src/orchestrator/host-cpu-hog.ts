// A CPU hog on the whole host: a fault helper container running stress-ng
// (Debian's, in the helper image) with N busy workers, so every peer's timers
// fire late at once, as on a host shared with a noisy neighbour. The hog has
// its own cgroup quota (at most 3/4 of the host's CPUs) so the machine stays
// usable, a stress-ng timeout so it ends even if nobody stops it, and no
// network or capability. `--clear`, the end of `--for`, and a chaos run's
// clean-up remove it.
import { availableParallelism } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { EnclaveElectError, UsageError } from '../errors.ts';
import { type DockerClient, dockerMessage, dockerStatus } from './docker-client.ts';
import { ensureHelperImage, HELPER_LABEL } from './fault-helper.ts';
import { type ClusterSelector, LABEL } from './labels.ts';

/** Which cluster a hog was started against (it has no target container: it is the host's). */
export const HOG_OF_LABEL = 'io.enclave-elect.hog-of';
/** The share of the host's CPUs a hog may take, whatever the workers: the rest stays for everything else. */
export const HOG_MAX_SHARE = 0.75;
/** A hog without `--for` ends by itself after this long (stress-ng --timeout). */
export const HOG_DEFAULT_TIMEOUT_MS = 10 * 60_000;
export const MAX_HOG_WORKERS = 64;

type Docker = Pick<DockerClient, 'createContainer' | 'getContainer' | 'listContainers' | 'getImage'>;

function ownerOf(selector: ClusterSelector): string {
  return selector.kind === 'name' ? `name:${selector.name}` : `project:${selector.project}`;
}

/** The CPUs the hog may use: its workers, but never more than HOG_MAX_SHARE of the host. */
export function hogCpus(workers: number, hostCpus: number): number {
  if (!Number.isInteger(workers) || workers < 1 || workers > MAX_HOG_WORKERS) {
    throw new UsageError(`--workers must be a whole number from 1 to ${MAX_HOG_WORKERS}`);
  }
  return Math.min(workers, Math.round(hostCpus * HOG_MAX_SHARE * 100) / 100);
}

/** The hog's command: stress-ng busy loops, ending by themselves after `timeoutMs`. */
export function hogCommand(workers: number, timeoutMs: number): string[] {
  return [
    'stress-ng',
    '--cpu',
    String(workers),
    '--cpu-method',
    'loop',
    '--timeout',
    `${Math.ceil(timeoutMs / 1000)}s`,
  ];
}

export interface HostHogResult {
  workers: number;
  /** CPUs the hog's quota allows. */
  cpus: number;
  hostCpus: number;
  container: string;
  /** `--for`: the hog was removed at the end. */
  removed: boolean;
}

/** Start the hog for the cluster; with `forMs`, hold it that long and remove it. */
export async function hogHost(
  docker: Docker,
  selector: ClusterSelector,
  request: { workers: number; forMs?: number },
  context: { progress: (line: string) => void; extraLabels?: Record<string, string>; signal?: AbortSignal },
): Promise<HostHogResult> {
  const hostCpus = availableParallelism();
  const cpus = hogCpus(request.workers, hostCpus);
  await stopHostHogs(docker, selector);
  const image = await ensureHelperImage(docker, context.progress);
  let id: string;
  try {
    const container = await docker.createContainer({
      Image: image,
      Entrypoint: hogCommand(
        request.workers,
        request.forMs === undefined ? HOG_DEFAULT_TIMEOUT_MS : request.forMs + 30_000,
      ),
      Cmd: [],
      Labels: {
        ...(context.extraLabels ?? {}),
        [LABEL.managed]: 'true',
        [LABEL.role]: 'fault-helper',
        [HELPER_LABEL.kind]: 'stress',
        [HELPER_LABEL.describe]: `host CPU hog, ${request.workers} worker(s) within ${cpus} CPU(s)`,
        [HOG_OF_LABEL]: ownerOf(selector),
      },
      HostConfig: {
        NetworkMode: 'none',
        CapDrop: ['ALL'],
        NanoCpus: Math.round(cpus * 1e9),
        AutoRemove: true,
      },
    });
    id = container.id;
    await container.start();
  } catch (error) {
    throw new EnclaveElectError(
      'E_FAULT_HELPER',
      `starting the host CPU hog failed: ${dockerMessage(error)}`,
      {
        cause: error,
      },
    );
  }
  context.progress(`host: ${request.workers} busy worker(s), held to ${cpus} of ${hostCpus} CPUs`);
  let removed = false;
  if (request.forMs !== undefined) {
    await sleep(request.forMs, undefined, { signal: context.signal }).catch(() => undefined);
    await stopHostHogs(docker, selector);
    removed = true;
    context.progress('host: CPU hog removed');
  }
  return { workers: request.workers, cpus, hostCpus, container: id, removed };
}

/** Remove every hog started for this cluster; returns their names. */
export async function stopHostHogs(
  docker: Pick<DockerClient, 'getContainer' | 'listContainers'>,
  selector: ClusterSelector,
): Promise<string[]> {
  const hogs = await docker.listContainers({
    all: true,
    filters: JSON.stringify({
      label: [`${LABEL.role}=fault-helper`, `${HOG_OF_LABEL}=${ownerOf(selector)}`],
    }),
  });
  for (const hog of hogs) {
    try {
      await docker.getContainer(hog.Id).remove({ force: true });
    } catch (error) {
      // AutoRemove may have removed it as it stopped.
      if (dockerStatus(error) !== 404 && dockerStatus(error) !== 409) {
        throw new EnclaveElectError(
          'E_FAULT_HELPER',
          `removing the host CPU hog failed: ${dockerMessage(error)}`,
          {
            cause: error,
          },
        );
      }
    }
  }
  return hogs.map((h) => (h.Names?.[0] ?? h.Id).replace(/^\//, ''));
}
