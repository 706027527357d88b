// The fault schedule of a chaos run, as a pure function of its seed: which
// fault, on whom, after how long a quiet gap, held for how long. Faults run
// one at a time (inject, hold, heal, let the cluster settle), so the gaps are
// measured from the previous fault's settling, exponential with the mean
// `--interval`. Targets are named here (a peer, or `leader` resolved when the
// fault starts), so the same seed and peer list give the same schedule.
import type { NetFaultSpec } from '../orchestrator/net-fault-spec.ts';
import { seededRandom } from '../random/seeded-random.ts';
import { drawNetFault, NET_KINDS, type NetKind } from './network-params.ts';

/** The container and clean-partition faults: the default set. */
export const CLASSIC_KINDS = ['kill', 'stop', 'pause', 'partition', 'enclave-restart', 'restart'] as const;
/** Faults of the network itself: shaping on one peer's namespace, and partitions that are not clean cuts. */
export const NETWORK_KINDS = [...NET_KINDS, 'one-way', 'ring', 'bridge'] as const;
/**
 * Faults of the host: CPU starvation of one peer (its cgroup quota), its wall
 * clock moved or strobed, and a CPU hog on the whole host (every peer slowed).
 */
export const HOST_KINDS = ['cpu', 'clock', 'host-cpu'] as const;
export const FAULT_KINDS = [...CLASSIC_KINDS, ...NETWORK_KINDS, ...HOST_KINDS] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** `--nemesis-profile`: named mixes of kinds. jepsen mixes every kind, as Jepsen's combined nemesis does. */
export const NEMESIS_PROFILES: Record<string, readonly FaultKind[]> = {
  classic: CLASSIC_KINDS,
  network: NETWORK_KINDS,
  host: HOST_KINDS,
  jepsen: FAULT_KINDS,
};

export function isNetKind(kind: FaultKind): kind is NetKind {
  return (NET_KINDS as readonly string[]).includes(kind);
}

/** Faults after which the peer process is gone until healed: an open leader interval ends at the fault. */
export const ENDS_PROCESS: ReadonlySet<FaultKind> = new Set(['kill', 'stop', 'restart']);

export interface ScheduledFault {
  /** 1-based position in the run. */
  index: number;
  kind: FaultKind;
  /** Quiet time before this fault, after the previous one settled (ms). */
  gapMs: number;
  /** A peer name, `leader` (whoever leads when it starts), or `enclave`. */
  target: string;
  /** partition: peers cut off with the target (their names); the rest stay together. */
  with?: string[];
  /** partition: which side keeps the enclave, the isolated group (`isolated`) or the others (`rest`). */
  enclaveSide?: 'isolated' | 'rest';
  /** delay, loss, duplicate, corrupt: what is done to the target's outgoing packets. */
  net?: NetFaultSpec;
  /** one-way: `mute` (the others stop hearing the target) or `deaf` (the target stops hearing them). */
  direction?: 'mute' | 'deaf';
  /** cpu: the share of one CPU the target may use while held (percent). */
  cpuSharePercent?: number;
  /** clock: the target's wall-clock offset (ms), strobed between +|offset| and -|offset| every period if given. */
  clock?: { offsetMs: number; strobePeriodMs?: number };
  /** host-cpu: busy workers of the host-wide hog (each one CPU at most, all within the hog's quota). */
  hogWorkers?: number;
  /** How long the fault lasts before it is healed (ms); 0 for restarts, which heal themselves. */
  holdMs: number;
}

export interface ScheduleOptions {
  seed: string;
  durationMs: number;
  /** Mean quiet time between faults (ms). */
  intervalMs: number;
  faults: readonly FaultKind[];
  peers: readonly string[];
  /** Expected time a fault takes beyond its hold (inject, heal, settle), used to fill the duration. */
  overheadMs?: number;
}

/** How long each kind is held: [min, max] ms. Long enough for a lease (2 s) to run out, short enough to heal often. */
const HOLD_MS: Record<FaultKind, [number, number]> = {
  kill: [1000, 4000],
  stop: [1000, 4000],
  pause: [1000, 5000],
  partition: [2000, 6000],
  'enclave-restart': [0, 0],
  restart: [0, 0],
  // Long enough for several probe periods and a lease renewal under the fault.
  delay: [3000, 8000],
  loss: [3000, 8000],
  duplicate: [3000, 8000],
  corrupt: [3000, 8000],
  'one-way': [2000, 6000],
  ring: [2000, 6000],
  bridge: [2000, 6000],
  cpu: [3000, 8000],
  clock: [3000, 8000],
  'host-cpu': [3000, 8000],
};

/**
 * The documented skew bound (docs/chaos.md, clock skew): |s| under the leader
 * margin, 200 ms at the default 2 s lease. Chaos stays inside it, so every
 * invariant must hold; `integration-tests/net-clock-election.test.ts` goes past it.
 */
export const CLOCK_BOUND_MS = 200;

/** Chance that a peer fault aims at the current leader rather than a named peer: failovers are the point. */
const LEADER_SHARE = 0.5;
const DEFAULT_OVERHEAD_MS = 4000;

export function parseFaultKinds(raw: string): FaultKind[] {
  const kinds = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = kinds.filter((k) => !(FAULT_KINDS as readonly string[]).includes(k));
  if (unknown.length > 0 || kinds.length === 0) {
    throw new RangeError(
      `--faults: ${unknown.length > 0 ? `unknown ${unknown.join(', ')}` : 'none given'}; choose from ${FAULT_KINDS.join(',')}`,
    );
  }
  return [...new Set(kinds)] as FaultKind[];
}

function between(random: () => number, [lo, hi]: [number, number]): number {
  return Math.round(lo + random() * (hi - lo));
}

/** 50 ms to 90% of the bound, either way; half the time a strobe flipping every 250 ms to 1 s. */
function drawClockFault(random: () => number): NonNullable<ScheduledFault['clock']> {
  const size = between(random, [50, Math.floor(CLOCK_BOUND_MS * 0.9)]);
  const offsetMs = random() < 0.5 ? -size : size;
  return random() < 0.5 ? { offsetMs, strobePeriodMs: between(random, [250, 1000]) } : { offsetMs };
}

/** Exponential with the given mean, capped at 4 means so a run is not one long silence. */
function exponential(random: () => number, meanMs: number): number {
  return Math.round(Math.min(-Math.log(1 - random()) * meanMs, 4 * meanMs));
}

function shuffled<T>(random: () => number, items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/**
 * The schedule: faults until their expected total time passes the duration.
 * The runner stops at the deadline anyway; the expected time only sizes the list.
 * The first faults cycle through every chosen kind once (in seeded order), so
 * even a short run exercises them all.
 */
export function generateSchedule(options: ScheduleOptions): ScheduledFault[] {
  if (options.faults.length === 0) throw new RangeError('no fault kinds to schedule');
  if (options.peers.length === 0) throw new RangeError('no peers to schedule faults on');
  const rng = seededRandom(`schedule:${options.seed}`);
  const random = (): number => rng.next();
  const overhead = options.overheadMs ?? DEFAULT_OVERHEAD_MS;
  const firstRound = shuffled(random, options.faults);
  const schedule: ScheduledFault[] = [];
  let expected = 0;
  while (expected < options.durationMs) {
    const index = schedule.length + 1;
    const kind = firstRound[index - 1] ?? options.faults[Math.floor(random() * options.faults.length)]!;
    const gapMs = exponential(random, options.intervalMs);
    const holdMs = between(random, HOLD_MS[kind]);
    const fault: ScheduledFault = { index, kind, gapMs, target: 'enclave', holdMs };
    if (kind !== 'enclave-restart') {
      fault.target =
        random() < LEADER_SHARE ? 'leader' : options.peers[Math.floor(random() * options.peers.length)]!;
    }
    if (isNetKind(kind)) fault.net = drawNetFault(kind, random);
    if (kind === 'one-way') fault.direction = random() < 0.5 ? 'mute' : 'deaf';
    // 5-25% of one CPU: from hardly running to merely slow.
    if (kind === 'cpu') fault.cpuSharePercent = between(random, [5, 25]);
    if (kind === 'clock') fault.clock = drawClockFault(random);
    // One to four busy workers: from one core of two taken to both oversubscribed.
    if (kind === 'host-cpu') fault.hogWorkers = between(random, [1, 4]);
    if (kind === 'partition') {
      // A minority is cut off: the target plus up to (n-1)/2 - 1 others, so the rest keep a majority.
      const extra = Math.floor(random() * Math.max(0, Math.floor((options.peers.length - 1) / 2)));
      const others = shuffled(
        random,
        options.peers.filter((p) => p !== fault.target),
      );
      fault.with = others.slice(0, extra).sort();
      fault.enclaveSide = random() < 0.75 ? 'rest' : 'isolated';
    }
    schedule.push(fault);
    expected += gapMs + holdMs + overhead;
  }
  return schedule;
}
