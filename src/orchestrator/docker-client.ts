// The Docker engine connection: dockerode configured from the environment
// (DOCKER_HOST, DOCKER_TLS_VERIFY, DOCKER_CERT_PATH; no pinned API version),
// and the translation of engine failures into coded errors a user can act on.
import Docker from 'dockerode';
import { EnclaveElectError } from '../errors.ts';

/** The part of dockerode the orchestrator uses; tests pass a fake. */
export type DockerClient = Pick<
  Docker,
  | 'ping'
  | 'listContainers'
  | 'getContainer'
  | 'createContainer'
  | 'listNetworks'
  | 'getNetwork'
  | 'createNetwork'
  | 'listVolumes'
  | 'getVolume'
  | 'createVolume'
  | 'getImage'
  | 'buildImage'
  | 'modem'
  // Swarm (`--swarm`), answered by a manager's engine: reads, node jobs, task logs.
  | 'listServices'
  | 'listTasks'
  | 'listNodes'
  | 'createService'
  | 'getTask'
>;

export function connectDocker(): Docker {
  // dockerode reads DOCKER_HOST and the TLS variables itself.
  return new Docker();
}

function engineAddress(): string {
  return process.env.DOCKER_HOST || 'unix:///var/run/docker.sock';
}

/** The HTTP status of a dockerode error, if the engine answered. */
export function dockerStatus(error: unknown): number | undefined {
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' ? status : undefined;
}

/** The engine's own message inside a dockerode error ("No such container: ..."). */
export function dockerMessage(error: unknown): string {
  const json = (error as { json?: { message?: unknown } } | null)?.json;
  if (json && typeof json.message === 'string') return json.message;
  const reason = (error as { reason?: unknown } | null)?.reason;
  if (typeof reason === 'string' && reason !== '') return reason;
  return error instanceof Error ? error.message : String(error);
}

/** Fail with E_DOCKER_UNAVAILABLE, saying how to fix it, unless the engine answers a ping. */
export async function ensureDockerReachable(docker: Pick<DockerClient, 'ping'>): Promise<void> {
  try {
    await docker.ping();
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    const where = engineAddress();
    const why = typeof code === 'string' ? code : dockerMessage(error);
    const hint =
      code === 'EACCES'
        ? 'Your user may not access the socket: add it to the docker group, or run as root.'
        : 'Start it (`sudo systemctl start docker`, or `sudo dockerd &` where there is no systemd), or point DOCKER_HOST at a running engine.';
    throw new EnclaveElectError(
      'E_DOCKER_UNAVAILABLE',
      `Docker is not reachable at ${where} (${why}). ${hint}`,
      {
        cause: error,
      },
    );
  }
}
