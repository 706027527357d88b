// The fault helper container (deploy/fault-helper/): built on demand from the
// local base image, tagged by the hash of its sources (so an edit rebuilds and
// the engine's cache serves every other run), and run in a target container's
// network namespace with NET_ADMIN + NET_RAW only. The target keeps
// `cap_drop: [ALL]`: the helper, not the peer, holds the capability.

import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { EnclaveElectError } from '../errors.ts';
import { createHash } from '../platform/node-crypto.ts';
import { readdirSync, readFileSync } from '../platform/node-fs.ts';
import { type DockerClient, dockerMessage, dockerStatus } from './docker-client.ts';
import { demultiplex } from './docker-stream.ts';
import { LABEL } from './labels.ts';
import { ensureImage, type ImageBuilder, PROJECT_ROOT } from './project-image.ts';

export const HELPER_CONTEXT = join(PROJECT_ROOT, 'deploy', 'fault-helper');
const HELPER_REPOSITORY = 'enclave-elect-fault-helper';

export const HELPER_LABEL = {
  /** The container id whose network namespace a helper shares. */
  target: 'io.enclave-elect.fault-target',
  /** What the helper does: net (shaping), cut (link cuts of a partition), stress, clock (offset or strobe). */
  kind: 'io.enclave-elect.fault-kind',
  /** The fault in words, for people listing helpers. */
  describe: 'io.enclave-elect.fault',
} as const;

type Docker = Pick<DockerClient, 'getImage' | 'createContainer' | 'getContainer' | 'listContainers'>;

/** `enclave-elect-fault-helper:<first 12 hex of sha256 over the helper's files>`. */
export function helperImageTag(context = HELPER_CONTEXT): string {
  const hash = createHash('sha256');
  for (const file of readdirSync(context).sort()) {
    hash
      .update(file)
      .update('\0')
      .update(readFileSync(join(context, file)))
      .update('\0');
  }
  return `${HELPER_REPOSITORY}:${hash.digest('hex').slice(0, 12)}`;
}

export async function ensureHelperImage(
  docker: Pick<DockerClient, 'getImage'>,
  progress: (line: string) => void,
  builder?: ImageBuilder,
): Promise<string> {
  const image = helperImageTag();
  await ensureImage(docker, image, {
    build: false,
    progress,
    context: HELPER_CONTEXT,
    ...(builder === undefined ? {} : { builder }),
  });
  return image;
}

export type HelperKind = 'net' | 'cut' | 'stress' | 'clock';

/** The iptables chain each kind owns in the namespace (deploy/fault-helper/net-fault.sh). */
const CHAIN: Record<HelperKind, string | undefined> = {
  net: 'EE_NETFAULT',
  cut: 'EE_CUT',
  stress: undefined,
  clock: undefined,
};

export interface HelperRun {
  image: string;
  /** Container whose network namespace the helper joins. */
  target: string;
  cmd: string[];
  kind: HelperKind;
  describe: string;
  labels: Record<string, string>;
  /** Long-lived helpers are removed when they stop; one-shot ones are removed after their output is read. */
  autoRemove: boolean;
}

/** The create options: the target's namespace, NET_ADMIN and NET_RAW only, our labels. */
export function helperContainerOptions(run: HelperRun) {
  return {
    Image: run.image,
    Cmd: run.cmd,
    Env: CHAIN[run.kind] === undefined ? [] : [`NET_FAULT_CHAIN=${CHAIN[run.kind]}`],
    Labels: {
      ...run.labels,
      [LABEL.managed]: 'true',
      [LABEL.role]: 'fault-helper',
      [HELPER_LABEL.target]: run.target,
      [HELPER_LABEL.kind]: run.kind,
      [HELPER_LABEL.describe]: run.describe,
    },
    HostConfig: {
      NetworkMode: `container:${run.target}`,
      CapDrop: ['ALL'],
      CapAdd: ['NET_ADMIN', 'NET_RAW'],
      AutoRemove: run.autoRemove,
    },
  };
}

async function outputOf(docker: Pick<DockerClient, 'getContainer'>, id: string) {
  const raw = (await docker.getContainer(id).logs({ stdout: true, stderr: true, follow: false })) as Buffer;
  return demultiplex(raw);
}

function helperFailure(what: string, detail: string, cause?: unknown): EnclaveElectError {
  return new EnclaveElectError('E_FAULT_HELPER', `${what}: ${detail.trim() || 'no output'}`, { cause });
}

/**
 * Start a long-lived helper and wait until it says `ready` on stderr: the faults
 * are then in place. Returns its id and the ready line (which names the shaping).
 */
export async function startHelper(
  docker: Docker,
  run: HelperRun,
  readyTimeoutMs = 20_000,
): Promise<{ id: string; ready: string }> {
  let id: string;
  try {
    const container = await docker.createContainer(helperContainerOptions({ ...run, autoRemove: false }));
    id = container.id;
    await container.start();
  } catch (error) {
    throw helperFailure(
      `starting the fault helper for ${run.target.slice(0, 12)}`,
      dockerMessage(error),
      error,
    );
  }
  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    const { stderr } = await outputOf(docker, id);
    const ready = stderr.split('\n').find((line) => line.includes('net-fault: ready'));
    if (ready !== undefined) return { id, ready };
    const info = await docker.getContainer(id).inspect();
    if (!info.State.Running || Date.now() > deadline) {
      await docker
        .getContainer(id)
        .remove({ force: true })
        .catch(() => undefined);
      throw helperFailure(
        `the fault helper for ${run.target.slice(0, 12)} ${info.State.Running ? 'was not ready in time' : `exited (${info.State.ExitCode})`}`,
        stderr,
      );
    }
    await sleep(100);
  }
}

/** Run a one-shot helper command to its end; returns its exit code and output. */
export async function runHelper(
  docker: Docker,
  run: Omit<HelperRun, 'autoRemove'>,
): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const container = await docker.createContainer(helperContainerOptions({ ...run, autoRemove: false }));
  try {
    await container.start();
    const { StatusCode } = (await container.wait()) as { StatusCode: number };
    return { exitCode: StatusCode, ...(await outputOf(docker, container.id)) };
  } finally {
    await container.remove({ force: true }).catch(() => undefined);
  }
}

/** Helpers in a container's namespace (every one when no target is given), of one kind or all. */
export async function listHelpers(
  docker: Pick<DockerClient, 'listContainers'>,
  target?: string,
  kind?: HelperKind,
) {
  const label = [
    `${LABEL.role}=fault-helper`,
    ...(target === undefined ? [] : [`${HELPER_LABEL.target}=${target}`]),
    ...(kind === undefined ? [] : [`${HELPER_LABEL.kind}=${kind}`]),
  ];
  return docker.listContainers({ all: true, filters: JSON.stringify({ label }) });
}

/** Stop helpers (their SIGTERM trap removes their faults), then remove them. */
export async function stopHelpers(
  docker: Pick<DockerClient, 'getContainer' | 'listContainers'>,
  target?: string,
  kind?: HelperKind,
): Promise<string[]> {
  const removed: string[] = [];
  for (const info of await listHelpers(docker, target, kind)) {
    const container = docker.getContainer(info.Id);
    try {
      if (info.State === 'running') await container.stop({ t: 5 });
      await container.remove({ force: true });
    } catch (error) {
      if (dockerStatus(error) !== 404 && dockerStatus(error) !== 304) {
        throw helperFailure(`removing fault helper ${info.Id.slice(0, 12)}`, dockerMessage(error), error);
      }
    }
    removed.push((info.Names?.[0] ?? info.Id).replace(/^\//, ''));
  }
  return removed;
}
