// Clock skew on one peer: libfaketime preloaded into the peer's process moves
// its wall clock (Date.now()) while its monotonic clock, its timers and every
// other container's clock stay true. Containers share the host kernel's clock,
// so interposition is the only way. The library and one offset file per peer
// live in a volume the fault helper fills (the project image needs nothing).
//
// A peer is "armed" once: recreated with the volume mounted read-only and
// LD_PRELOAD/FAKETIME_* set. This is one restart. From then on an offset is a
// file write that the peer sees at its next wall-clock read (FAKETIME_NO_CACHE:
// libfaketime re-reads the file every time, about 9 µs per read instead of
// 0.4 µs with a 1 s cache, measured here), with no restart; a strobe is a
// helper rewriting it (clock-strobe.ts). The enclave is never armed: it is the trusted party and
// its clock stays true.
import { EnclaveElectError, UsageError } from '../errors.ts';
import type { ClusterContainer } from './cluster-inventory.ts';
import { execInContainer } from './container-exec.ts';
import type { DockerClient } from './docker-client.ts';
import { HELPER_LABEL } from './fault-helper.ts';
import { type ClusterSelector, LABEL, resourcePrefix } from './labels.ts';

export const CLOCK_DIR = '/opt/enclave-elect-clock';
const LIBRARY = 'libfaketime.so.1';
const HELPER_LIBRARY = '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1';

export type ClockDocker = Pick<
  DockerClient,
  'createContainer' | 'getContainer' | 'listVolumes' | 'createVolume' | 'getImage' | 'listContainers'
>;

export function clockVolumeName(selector: ClusterSelector): string {
  return selector.kind === 'name'
    ? `${resourcePrefix(selector.name)}-clock`
    : `${selector.project}-enclave-elect-clock`;
}

/** The file holding one peer's offset, in libfaketime's relative format. */
export function offsetFile(member: string): string {
  return `${CLOCK_DIR}/${member.replace(/[^a-zA-Z0-9_.-]/g, '_')}.rc`;
}

/** `+2.500` / `-0.250`: seconds with a sign, as libfaketime reads a relative offset. */
export function faketimeOffset(offsetMs: number): string {
  return `${offsetMs < 0 ? '-' : '+'}${(Math.abs(offsetMs) / 1000).toFixed(3)}`;
}

/** The environment that preloads libfaketime, reading `member`'s offset file; monotonic time is left true. */
export function clockEnv(member: string): string[] {
  return [
    `LD_PRELOAD=${CLOCK_DIR}/${LIBRARY}`,
    `FAKETIME_TIMESTAMP_FILE=${offsetFile(member)}`,
    // Read the offset file on every wall-clock read, so a strobe's flips show at once.
    'FAKETIME_NO_CACHE=1',
    'FAKETIME_DONT_FAKE_MONOTONIC=1',
  ];
}

export function isArmed(env: string[] | null | undefined): boolean {
  return (env ?? []).some((e) => e === `LD_PRELOAD=${CLOCK_DIR}/${LIBRARY}`);
}

/** A helper running a shell script with the clock volume at CLOCK_DIR: no network, no capability. */
export function clockHelperOptions(
  image: string,
  volume: string,
  script: string,
  labels: Record<string, string>,
) {
  return {
    Image: image,
    Entrypoint: ['sh', '-c', script],
    Cmd: [],
    Labels: {
      ...labels,
      [LABEL.managed]: 'true',
      [LABEL.role]: 'fault-helper',
      [HELPER_LABEL.kind]: 'clock',
    },
    HostConfig: { NetworkMode: 'none', CapDrop: ['ALL'], Binds: [`${volume}:${CLOCK_DIR}`] },
  };
}

/** Run a shell script in a clock helper to its end. */
async function runWithVolume(
  docker: ClockDocker,
  image: string,
  volume: string,
  script: string,
  labels: Record<string, string>,
) {
  const container = await docker.createContainer(clockHelperOptions(image, volume, script, labels));
  try {
    await container.start();
    const { StatusCode } = (await container.wait()) as { StatusCode: number };
    if (StatusCode !== 0)
      throw new EnclaveElectError(
        'E_FAULT_HELPER',
        `clock volume step failed (exit ${StatusCode}): ${script}`,
      );
  } finally {
    await container.remove({ force: true }).catch(() => undefined);
  }
}

/** The clock volume, created and filled with the library when missing. */
export async function ensureClockVolume(
  docker: ClockDocker,
  selector: ClusterSelector,
  image: string,
  labels: Record<string, string>,
): Promise<string> {
  const name = clockVolumeName(selector);
  const { Volumes } = await docker.listVolumes({ filters: JSON.stringify({ name: [name] }) });
  if ((Volumes ?? []).some((v) => v.Name === name)) return name;
  const owner: Record<string, string> =
    selector.kind === 'name'
      ? { [LABEL.cluster]: selector.name }
      : { [LABEL.composeProject]: selector.project };
  await docker.createVolume({
    Name: name,
    Labels: { ...labels, ...owner, [LABEL.managed]: 'true', [LABEL.role]: 'clock' },
  });
  await runWithVolume(
    docker,
    image,
    name,
    `cp ${HELPER_LIBRARY} ${CLOCK_DIR}/${LIBRARY} && chmod 0644 ${CLOCK_DIR}/${LIBRARY}`,
    labels,
  );
  return name;
}

/** Write a peer's offset (picked up within about 2 s by an armed peer). */
export async function writeOffset(
  docker: ClockDocker,
  image: string,
  volume: string,
  member: string,
  offsetMs: number,
  labels: Record<string, string>,
): Promise<void> {
  const file = offsetFile(member);
  await runWithVolume(
    docker,
    image,
    volume,
    `echo '${faketimeOffset(offsetMs)}' > ${file}.new && chmod 0644 ${file}.new && mv ${file}.new ${file}`,
    labels,
  );
}

/**
 * Recreate a peer container exactly as it was, plus the clock volume and
 * environment: same name, labels, command, host config, network aliases and address.
 */
export async function armPeer(docker: ClockDocker, peer: ClusterContainer, volume: string): Promise<string> {
  const old = docker.getContainer(peer.id);
  const info = await old.inspect();
  const hostConfig = {
    ...info.HostConfig,
    Binds: [...(info.HostConfig.Binds ?? []), `${volume}:${CLOCK_DIR}:ro`],
  };
  const endpoints = Object.fromEntries(
    Object.entries(info.NetworkSettings.Networks ?? {}).map(([network, endpoint]) => [
      network,
      {
        Aliases: (endpoint.Aliases ?? []).filter((alias: string) => !info.Id.startsWith(alias)),
        ...(endpoint.IPAMConfig ? { IPAMConfig: endpoint.IPAMConfig } : {}),
      },
    ]),
  );
  const [firstNetwork] = Object.keys(endpoints);
  await old.remove({ force: true });
  const created = await docker.createContainer({
    name: info.Name.replace(/^\//, ''),
    Image: info.Config.Image,
    Hostname: info.Config.Hostname,
    User: info.Config.User,
    WorkingDir: info.Config.WorkingDir,
    Entrypoint: info.Config.Entrypoint as string[] | undefined,
    Cmd: info.Config.Cmd,
    Env: [
      ...(info.Config.Env ?? []).filter(
        (e: string) => !e.startsWith('LD_PRELOAD=') && !e.startsWith('FAKETIME'),
      ),
      ...clockEnv(peer.name),
    ],
    Labels: info.Config.Labels,
    Healthcheck: info.Config.Healthcheck,
    ExposedPorts: info.Config.ExposedPorts,
    HostConfig: { ...hostConfig, NetworkMode: firstNetwork ?? info.HostConfig.NetworkMode },
    NetworkingConfig: { EndpointsConfig: endpoints },
  });
  await created.start();
  return created.id;
}

/**
 * The peer's wall clock minus this host's, measured by a process started inside
 * it: between `low` and `high` ms (the process reads its clock somewhere within
 * the exec's round trip, which a Node boot dominates).
 */
export async function measureOffset(
  docker: Pick<DockerClient, 'getContainer'>,
  id: string,
): Promise<{ low: number; high: number }> {
  const before = Date.now();
  const result = await execInContainer(
    docker,
    id,
    ['node', '-e', 'process.stdout.write(String(Date.now()))'],
    15_000,
  );
  const after = Date.now();
  const theirs = Number(result.stdout);
  if (result.stdout.trim() === '' || !Number.isFinite(theirs)) {
    throw new EnclaveElectError(
      'E_FAULT_HELPER',
      `could not read the clock of ${id.slice(0, 12)}: ${result.stderr.trim()}`,
    );
  }
  return { low: theirs - after, high: theirs - before };
}

/** `+2s`, `-500ms`, `1.5s`: a signed duration (a bare number is milliseconds). */
export function parseOffset(raw: string): number {
  const match = /^\s*([+-])?\s*(\d+(?:\.\d+)?)\s*(ms|s|m)?\s*$/.exec(raw);
  if (!match)
    throw new UsageError(`--offset '${raw}' must be a signed duration (examples: +2s, -500ms, 1.5s)`);
  const ms = Math.round(Number(match[2]) * { ms: 1, s: 1000, m: 60_000 }[match[3] ?? 'ms']!);
  if (ms > 3_600_000) throw new UsageError('--offset must be at most 1 hour either way');
  return match[1] === '-' ? -ms : ms;
}
