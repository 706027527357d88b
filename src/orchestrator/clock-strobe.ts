// A clock fault that lasts while a helper runs: a small container with the
// clock volume (no network, no capability) writes one armed peer's offset
// file, and for a strobe rewrites it between +x and -x every period (Jepsen's
// clock strobe; libfaketime cannot strobe by itself, but an armed peer reads
// the file on every wall-clock read, FAKETIME_NO_CACHE). On SIGTERM the helper
// writes the true time back and exits, so stopping it is the heal, and
// `cluster heal` / a chaos run's clean-up (which stop every fault helper of a
// peer) heal it too.
import { EnclaveElectError, UsageError } from '../errors.ts';
import { clockHelperOptions, faketimeOffset, offsetFile, parseOffset } from './clock-skew.ts';
import { execInContainer } from './container-exec.ts';
import type { DockerClient } from './docker-client.ts';
import { parseDuration } from './duration.ts';
import { HELPER_LABEL, stopHelpers } from './fault-helper.ts';

export interface ClockFault {
  /** The offset (ms); a strobe flips between +|offset| and -|offset|. */
  offsetMs: number;
  /** Strobe: how long each sign holds (ms); absent for a fixed offset. */
  strobePeriodMs?: number;
}

/** Shorter flips than this mostly measure the helper's own scheduling on a busy host. */
export const MIN_STROBE_PERIOD_MS = 100;

/** `--strobe 200ms,1s`: offset x, then period; the clock flips between +x and -x every period. */
export function parseStrobe(raw: string): Required<ClockFault> {
  const [offset, period, ...rest] = raw.split(',').map((s) => s.trim());
  if (offset === undefined || period === undefined || rest.length > 0 || offset === '' || period === '') {
    throw new UsageError(`--strobe '${raw}' must be OFFSET,PERIOD (example: --strobe 200ms,1s)`);
  }
  const offsetMs = Math.abs(parseOffset(offset));
  if (offsetMs === 0) throw new UsageError('--strobe: the offset must not be 0');
  const strobePeriodMs = parseDuration(period, '--strobe period');
  if (strobePeriodMs < MIN_STROBE_PERIOD_MS) {
    throw new UsageError(`--strobe: the period must be at least ${MIN_STROBE_PERIOD_MS}ms`);
  }
  return { offsetMs, strobePeriodMs };
}

/** The helper's script: write, strobe if asked, and write the true time back on SIGTERM. */
export function clockHelperScript(member: string, fault: ClockFault): string {
  const file = offsetFile(member);
  const seconds = (ms: number) => (ms / 1000).toFixed(3);
  const plus = faketimeOffset(Math.abs(fault.offsetMs));
  const minus = faketimeOffset(-Math.abs(fault.offsetMs));
  // `sleep & wait` so SIGTERM interrupts the wait at once (a foreground sleep would delay the trap);
  // the trap ends that sleep too, so nothing outlives the helper.
  const nap = (ms: number) => `sleep ${seconds(ms)} & s=$!; wait $s`;
  const loop =
    fault.strobePeriodMs === undefined
      ? `while :; do ${nap(3_600_000)}; done`
      : `while :; do ${nap(fault.strobePeriodMs)}; put '${minus}'; ${nap(fault.strobePeriodMs)}; put '${plus}'; done`;
  return [
    `put() { echo "$1" > ${file}.new && chmod 0644 ${file}.new && mv ${file}.new ${file}; }`,
    `s=''; trap '[ -n "$s" ] && kill $s 2>/dev/null; put "${faketimeOffset(0)}"; exit 0' TERM INT`,
    `put '${fault.strobePeriodMs === undefined ? faketimeOffset(fault.offsetMs) : plus}'`,
    'echo "clock: ready" >&2',
    loop,
  ].join('\n');
}

type Docker = Pick<DockerClient, 'createContainer' | 'getContainer' | 'listContainers'>;

/** Start the clock helper of one armed peer (container `peerId`); resolves once the first offset is written. */
export async function startClockHelper(
  docker: Docker,
  request: { image: string; volume: string; peerId: string; member: string; fault: ClockFault },
  labels: Record<string, string>,
): Promise<string> {
  // One clock per peer: an earlier helper writes its true time back first.
  await stopClockHelpers(docker, request.peerId);
  const describe =
    request.fault.strobePeriodMs === undefined
      ? `clock ${faketimeOffset(request.fault.offsetMs)} s`
      : `clock strobe ±${Math.abs(request.fault.offsetMs)}ms every ${request.fault.strobePeriodMs}ms`;
  const container = await docker.createContainer(
    clockHelperOptions(request.image, request.volume, clockHelperScript(request.member, request.fault), {
      ...labels,
      [HELPER_LABEL.target]: request.peerId,
      [HELPER_LABEL.describe]: describe,
    }),
  );
  await container.start();
  const deadline = Date.now() + 20_000;
  for (;;) {
    const info = await container.inspect();
    const raw = (await container.logs({ stdout: true, stderr: true, follow: false })) as Buffer;
    if (raw.toString('utf8').includes('clock: ready')) return container.id;
    if (!info.State.Running || Date.now() > deadline) {
      await container.remove({ force: true }).catch(() => undefined);
      throw new EnclaveElectError(
        'E_FAULT_HELPER',
        `the clock helper for ${request.member} ${info.State.Running ? 'was not ready in time' : `exited (${info.State.ExitCode})`}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Stop a peer's clock helpers (each writes the true time back), or every clock helper. */
export function stopClockHelpers(
  docker: Pick<DockerClient, 'getContainer' | 'listContainers'>,
  peerId?: string,
): Promise<string[]> {
  return stopHelpers(docker, peerId, 'clock');
}

/**
 * What the peer's processes see: the spread of (wall - monotonic) over
 * `forMs`, sampled every 20 ms by a process inside it. A fixed offset gives
 * about 0; a strobe of ±x about 2x.
 */
export async function measureSwing(
  docker: Pick<DockerClient, 'getContainer'>,
  id: string,
  forMs: number,
): Promise<{ swingMs: number; samples: number }> {
  const script = `const d=[];const t0=performance.now();const iv=setInterval(()=>{d.push(Date.now()-performance.now());if(performance.now()-t0>=${forMs}){clearInterval(iv);process.stdout.write(JSON.stringify([Math.max(...d)-Math.min(...d),d.length]))}},20)`;
  const result = await execInContainer(docker, id, ['node', '-e', script], forMs + 15_000);
  try {
    const [swingMs, samples] = JSON.parse(result.stdout) as [number, number];
    return { swingMs: Math.round(swingMs), samples };
  } catch (error) {
    throw new EnclaveElectError(
      'E_FAULT_HELPER',
      `could not sample the clock of ${id.slice(0, 12)}: ${result.stderr.trim() || result.stdout.trim()}`,
      { cause: error },
    );
  }
}
