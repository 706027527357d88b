// `cluster clock` and the chaos `clock` kind on top of the clock mechanics
// (clock-skew.ts: volume, arming, offset file; clock-strobe.ts: the helper
// that holds or strobes an offset): resolve the peer, arm it if needed, set or
// strobe its offset, measure what a process inside it sees.
import { setTimeout as sleep } from 'node:timers/promises';
import { EnclaveElectError, UsageError } from '../errors.ts';
import {
  armPeer,
  type ClockDocker,
  ensureClockVolume,
  faketimeOffset,
  isArmed,
  measureOffset,
  writeOffset,
} from './clock-skew.ts';
import { type ClockFault, measureSwing, startClockHelper, stopClockHelpers } from './clock-strobe.ts';
import { type ClusterContainer, peersOf, requireCluster } from './cluster-inventory.ts';
import { ensureHelperImage } from './fault-helper.ts';
import type { ClusterSelector } from './labels.ts';
import type { StatusReader } from './peer-status.ts';
import { resolveTarget } from './targets.ts';

export interface ClockSkewResult {
  target: string;
  container: string;
  offsetMs: number;
  /** Strobe: how long each sign held (ms). */
  strobePeriodMs?: number;
  /** The peer was recreated (one restart) to preload libfaketime; later offsets need no restart. */
  restarted: boolean;
  /** The peer's wall clock minus this host's, as measured inside it afterwards (ms). */
  measured: { low: number; high: number };
  /** Strobe: the spread of the peer's wall clock against its monotonic clock over two periods (about 2 x offset). */
  swingMs?: number;
  /** `--for`: the true time was put back at the end. */
  restored: boolean;
}

export interface ClockContext {
  reader: StatusReader;
  progress: (line: string) => void;
  extraLabels?: Record<string, string>;
  signal?: AbortSignal;
  /** false: refuse a peer that is not armed rather than restart it (a chaos run arms every peer before it starts). */
  arm?: boolean;
}

/** A peer armed before its first read of the file: a read just before the write still shows the old offset. */
const PICKUP_MS = 1200;

async function clockTarget(
  docker: ClockDocker,
  selector: ClusterSelector,
  target: string,
  reader: StatusReader,
) {
  const containers = await requireCluster(docker, selector);
  const { container } = await resolveTarget(containers, target, { reader });
  if (container.role !== 'peer') {
    throw new UsageError(
      `${container.name} is not a peer: the enclave's clock stays true (it is the trusted party)`,
    );
  }
  if (container.state !== 'running') {
    throw new EnclaveElectError(
      'E_STATE',
      `cannot move the clock of ${container.name}: it is ${container.state}`,
    );
  }
  return container;
}

/** Arm one peer (recreate it with libfaketime, at the true time) unless it is armed; returns its id. */
async function ensureArmed(
  docker: ClockDocker,
  peer: ClusterContainer,
  image: string,
  volume: string,
  labels: Record<string, string>,
  progress: (line: string) => void,
): Promise<{ id: string; restarted: boolean }> {
  const info = await docker.getContainer(peer.id).inspect();
  if (isArmed(info.Config.Env)) return { id: peer.id, restarted: false };
  progress(`${peer.name}: restarting once with libfaketime preloaded; later offsets need no restart`);
  await writeOffset(docker, image, volume, peer.name, 0, labels);
  return { id: await armPeer(docker, peer, volume), restarted: true };
}

/**
 * Arm every running peer of the cluster that is not armed yet (one restart
 * each, at the true time), so clock faults later need no restart. A chaos
 * run with the clock kind does this before it checks the steady state.
 */
export async function armClocks(
  docker: ClockDocker,
  selector: ClusterSelector,
  context: Pick<ClockContext, 'progress' | 'extraLabels'>,
): Promise<string[]> {
  const labels = context.extraLabels ?? {};
  const image = await ensureHelperImage(docker, context.progress);
  const volume = await ensureClockVolume(docker, selector, image, labels);
  const armed: string[] = [];
  for (const peer of peersOf(await requireCluster(docker, selector))) {
    if (peer.state !== 'running') continue;
    const { restarted } = await ensureArmed(docker, peer, image, volume, labels, context.progress);
    if (restarted) armed.push(peer.name);
  }
  return armed;
}

/**
 * Set (or strobe) one peer's wall-clock offset. A fixed offset stays until
 * changed or cleared; a strobe runs in a helper until `--clear`. With `forMs`,
 * the true time is put back after that long.
 */
export async function skewClock(
  docker: ClockDocker,
  selector: ClusterSelector,
  request: { target: string; forMs?: number } & ClockFault,
  context: ClockContext,
): Promise<ClockSkewResult> {
  const target = await clockTarget(docker, selector, request.target, context.reader);
  const labels = context.extraLabels ?? {};
  const image = await ensureHelperImage(docker, context.progress);
  const volume = await ensureClockVolume(docker, selector, image, labels);
  if (context.arm === false && !isArmed((await docker.getContainer(target.id).inspect()).Config.Env)) {
    throw new EnclaveElectError(
      'E_STATE',
      `${target.name} has no libfaketime preloaded; arming it would restart it (a chaos run arms every peer before it starts)`,
    );
  }
  const { id, restarted } = await ensureArmed(docker, target, image, volume, labels, context.progress);
  const strobe = request.strobePeriodMs !== undefined;
  let swingMs: number | undefined;
  if (strobe || request.forMs !== undefined) {
    // A helper holds the fault: stopping it (here, --clear, heal, a chaos clean-up) puts the true time back.
    await startClockHelper(
      docker,
      { image, volume, peerId: id, member: target.name, fault: request },
      labels,
    );
    if (strobe) {
      const swing = await measureSwing(docker, id, Math.max(1000, 2 * request.strobePeriodMs!));
      swingMs = swing.swingMs;
      context.progress(
        `${target.name}: strobing ±${Math.abs(request.offsetMs)} ms every ${request.strobePeriodMs} ms; swing seen inside it: ${swingMs} ms`,
      );
    }
  } else {
    await stopClockHelpers(docker, id);
    await writeOffset(docker, image, volume, target.name, request.offsetMs, labels);
    if (!restarted) await sleep(PICKUP_MS);
  }
  const measured = await measureOffset(docker, id);
  context.progress(
    `${target.name}: wall clock ${faketimeOffset(request.offsetMs)} s${strobe ? ' (strobe)' : ''}; measured inside it: ${Math.round(measured.low)}..${Math.round(measured.high)} ms`,
  );
  let restored = false;
  if (request.forMs !== undefined) {
    await sleep(request.forMs, undefined, { signal: context.signal }).catch(() => undefined);
    await stopClockHelpers(docker, id);
    restored = true;
    context.progress(`${target.name}: wall clock true again`);
  }
  return {
    target: target.name,
    container: target.container,
    offsetMs: request.offsetMs,
    ...(strobe ? { strobePeriodMs: request.strobePeriodMs!, swingMs: swingMs! } : {}),
    restarted,
    measured,
    restored,
  };
}
