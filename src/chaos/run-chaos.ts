// One chaos run against a live cluster: check the steady state, inject the
// seeded schedule's faults one at a time (each healed within its hold, then
// the cluster given lease + 2 s to agree again), poll status throughout, heal
// everything, wait for the steady state, and hand the recorded history to the
// checker. Starting and removing a cluster of its own is the caller's job.
import { setTimeout as sleep } from 'node:timers/promises';
import { EnclaveElectError } from '../errors.ts';
import { type ClusterContainer, peersOf, requireCluster } from '../orchestrator/cluster-inventory.ts';
import { converged } from '../orchestrator/convergence.ts';
import { type ClusterSelector, describeSelector } from '../orchestrator/labels.ts';
import type { StatusReader } from '../orchestrator/peer-status.ts';
import { agreementOf, summaryLine } from '../orchestrator/status-report.ts';
import { type Failover, type FailoverStats, failoverStats, failovers } from './failover.ts';
import type { FaultRecord, History } from './history.ts';
import { applyAndHeal, cutOff, healEverything, type InjectionContext } from './injection.ts';
import { checkHistory, type Verdict } from './invariants.ts';
import { collectLogEvents, type EventsClient, processStarts, watchExits } from './recording.ts';
import { ENDS_PROCESS, type FaultKind, generateSchedule, type ScheduledFault } from './schedule.ts';
import { type PollRound, StatusPoller } from './status-poller.ts';

export type ChaosDocker = InjectionContext['docker'] & EventsClient;

export interface ChaosOptions {
  seed: string;
  durationMs: number;
  intervalMs: number;
  faults: FaultKind[];
  selector: ClusterSelector;
  leaseMs: number;
  extraLabels?: Record<string, string>;
  /** Time between status rounds (default 1 s): each round starts a node process in every peer, load that slows restarted peers' start. */
  pollIntervalMs?: number;
  /** How long the cluster has to agree before the run and after it (default 30 s). */
  steadyTimeoutMs?: number;
}

export interface ChaosProgress {
  elapsedMs: number;
  durationMs: number;
  injected: number;
  scheduled: number;
  /** What is happening now ("kill peer-3 (leader)", "waiting 2.1s", "settling"). */
  doing: string;
  /** The latest status summary ("5/5 agree on peer-2, epoch 9"). */
  status: string;
}

export interface ChaosContext {
  docker: ChaosDocker;
  reader: StatusReader;
  progress: (state: ChaosProgress) => void;
  /** Lines worth keeping in the scrollback (a fault that failed to inject, the clean-up). */
  note: (line: string) => void;
  signal?: AbortSignal;
  now?: () => number;
}

export interface SkippedFault {
  index: number;
  kind: FaultKind;
  reason: string;
}

export interface ChaosRun {
  seed: string;
  schedule: ScheduledFault[];
  skipped: SkippedFault[];
  history: History;
  verdicts: Verdict[];
  failovers: Failover[];
  failoverStats: FailoverStats;
  /** What the clean-up after the last fault had to undo. */
  cleanup: string[];
  interrupted: boolean;
}

/** Agreement must come within lease + 2 s; the runner waits a little longer so a late agreement is measured, not cut off. */
const SETTLE_EXTRA_MS = 6000;

function steadyRound(peerCount: number) {
  return (round: PollRound) => converged(round.report, peerCount);
}

export async function runChaos(options: ChaosOptions, context: ChaosContext): Promise<ChaosRun> {
  const now = context.now ?? Date.now;
  const { docker, reader } = context;
  const selector = options.selector;
  // Compose peers are named by container until their /status says their member name (what logs and leaders use).
  const memberNames = new Map<string, string>();
  const named = (list: ClusterContainer[]) =>
    list.map((c) => (c.role === 'peer' ? { ...c, name: memberNames.get(c.container) ?? c.name } : c));
  let containers = await requireCluster(docker, selector);
  let peerNames = peersOf(containers).map((p) => p.name);
  const poller = new StatusPoller(docker, selector, reader, options.pollIntervalMs ?? 1000, now);
  const steadyTimeoutMs = options.steadyTimeoutMs ?? 30_000;
  let schedule: ScheduledFault[] = [];
  const startedAt = now();
  const progress = new RunProgress(context.progress, options.durationMs, () => poller.latest, now);
  const startedProcesses = await processStarts(docker, containers);
  const exits = await watchExits(docker, selector, () => containers);
  poller.start();
  const faults: FaultRecord[] = [];
  const skipped: SkippedFault[] = [];
  let cleanup: string[] = [];
  try {
    const steady = await poller.until(steadyRound(peerNames.length), startedAt, steadyTimeoutMs);
    if (!steady) {
      const line = poller.latest
        ? summaryLine(poller.latest.report.peers, poller.latest.startedAt)
        : 'no status could be read';
      throw new EnclaveElectError(
        'E_NOT_STEADY',
        `refusing to inject faults: ${describeSelector(selector)} is not in a steady state (every peer running and agreeing on one verified leader) after ${steadyTimeoutMs / 1000} s: ${line}. \`enclave-elect cluster status\` shows each peer's view.`,
      );
    }
    for (const p of steady.report.peers) memberNames.set(p.container, p.name);
    containers = named(containers);
    peerNames = peersOf(containers).map((p) => p.name);
    schedule = generateSchedule({
      seed: options.seed,
      durationMs: options.durationMs,
      intervalMs: options.intervalMs,
      faults: options.faults,
      peers: peerNames,
    });
    progress.scheduled = schedule.length;
    const deadline = startedAt + options.durationMs;
    const injection: InjectionContext = {
      docker,
      selector,
      reader,
      extraLabels: options.extraLabels ?? {},
      now,
      ...(context.signal ? { signal: context.signal } : {}),
    };
    for (const fault of schedule) {
      if (context.signal?.aborted) break;
      if (now() + fault.gapMs >= deadline) break;
      progress.doing = `quiet for ${(fault.gapMs / 1000).toFixed(1)}s before fault ${fault.index} (${fault.kind})`;
      await sleep(fault.gapMs, undefined, { signal: context.signal }).catch(() => undefined);
      if (context.signal?.aborted) break;
      containers = named(await requireCluster(docker, selector));
      const view = poller.latest ? agreementOf(poller.latest.report.peers) : undefined;
      const target = resolveScheduled(fault, containers, view?.leader ?? null);
      if (typeof target === 'string') {
        skipped.push({ index: fault.index, kind: fault.kind, reason: target });
        context.note(`fault ${fault.index} (${fault.kind}) skipped: ${target}`);
        continue;
      }
      const peers = peersOf(containers);
      const cut = fault.kind === 'enclave-restart' ? [] : cutOff(fault, target, peers);
      const enclaveWithIsolated = fault.enclaveSide === 'isolated';
      const others = peers.filter((p) => !cut.includes(p) && p.state === 'running').map((p) => p.name);
      // Ring and bridge keep every peer able to elect (all hear the enclave); the others lose no one.
      const everyoneStays = fault.kind === 'ring' || fault.kind === 'bridge' || fault.kind === 'one-way';
      const survivors =
        fault.kind === 'partition' && enclaveWithIsolated
          ? []
          : everyoneStays
            ? peers.filter((p) => p.state === 'running').map((p) => p.name)
            : others;
      const label = `${fault.kind} ${cut.map((c) => c.name).join(',') || 'enclave'}${fault.target === 'leader' ? ' (leader)' : ''}`;
      progress.doing = `fault ${fault.index}: ${label}`;
      const held = cut.flatMap((c) => [c.name, c.container]);
      await poller.hold(held);
      const record: FaultRecord = {
        kind: fault.kind,
        target: fault.kind === 'enclave-restart' ? target.name : cut[0]!.name,
        start: now(),
        heal: null,
        endsProcess: ENDS_PROCESS.has(fault.kind),
        leaderAtStart: view?.leader ?? null,
        epochAtStart: view?.epoch ?? null,
        survivors,
        ...(fault.kind === 'partition' || fault.kind === 'ring' || fault.kind === 'bridge'
          ? { peers: cut.map((c) => c.name) }
          : {}),
      };
      faults.push(record);
      progress.injected += 1;
      try {
        const applied = await applyAndHeal(
          injection,
          fault,
          fault.kind === 'enclave-restart' ? [target] : cut,
          enclaveWithIsolated,
        );
        record.start = applied.start;
        record.heal = applied.heal;
        record.note = applied.note;
      } catch (error) {
        record.note = `failed: ${(error as Error).message.split('\n')[0]}`;
        context.note(`fault ${fault.index} (${label}) failed: ${(error as Error).message}`);
        const undone = await healEverything(injection).catch((e: Error) => [`clean-up failed: ${e.message}`]);
        record.heal = now();
        for (const line of undone) context.note(`  ${line}`);
      } finally {
        poller.release(held);
      }
      progress.doing = `fault ${fault.index}: ${label} healed, waiting for agreement`;
      await poller.until(
        steadyRound(peerNames.length),
        record.heal!,
        options.leaseMs + 2000 + SETTLE_EXTRA_MS,
      );
    }
    progress.doing = 'healing everything';
    cleanup = await healEverything({ docker, selector, reader, extraLabels: {}, now }).catch(
      (error: Error) => {
        context.note(`clean-up after the run failed: ${error.message}`);
        return [`clean-up failed: ${error.message}`];
      },
    );
    progress.doing = 'waiting for the steady state';
    await poller.until(steadyRound(peerNames.length), now(), steadyTimeoutMs);
  } finally {
    progress.stop();
    await poller.stop();
  }
  const endedAt = now();
  const exitList = exits.stop();
  containers = named(await requireCluster(docker, selector));
  const events = await collectLogEvents(docker, containers, startedAt, startedProcesses);
  for (const f of faults) {
    if (!f.endsProcess) continue;
    const died = exitList.find((e) => e.name === f.target && e.t >= f.start - 1000);
    if (died) f.processEndedAt = died.t;
  }
  const history: History = {
    peers: peerNames,
    leaseMs: options.leaseMs,
    startedAt,
    endedAt,
    events,
    faults,
    observations: poller.observations,
    exits: exitList,
  };
  progress.report();
  return concludeRun({
    seed: options.seed,
    schedule,
    skipped,
    history,
    latest: poller.latest,
    peerCount: peerNames.length,
    cleanup,
    interrupted: context.signal?.aborted ?? false,
  });
}

/** What a run returns, from its history: the verdicts (the steady end included) and the failovers. */
export function concludeRun(
  run: Pick<ChaosRun, 'seed' | 'schedule' | 'skipped' | 'history' | 'cleanup' | 'interrupted'> & {
    latest: PollRound | undefined;
    peerCount: number;
  },
): ChaosRun {
  const { latest, peerCount, ...rest } = run;
  const verdicts = checkHistory(run.history);
  verdicts.push(finalSteadyVerdict(latest, peerCount));
  const list = failovers(run.history);
  return { ...rest, verdicts, failovers: list, failoverStats: failoverStats(list) };
}

/** What a run is doing, reported to its progress callback every 250 ms while it runs (and once at the end). */
export class RunProgress {
  doing = 'checking the steady state';
  injected = 0;
  scheduled = 0;
  readonly #sink: (state: ChaosProgress) => void;
  readonly #durationMs: number;
  readonly #latest: () => PollRound | undefined;
  readonly #now: () => number;
  readonly #startedAt: number;
  readonly #ticker: ReturnType<typeof setInterval>;

  constructor(
    sink: (state: ChaosProgress) => void,
    durationMs: number,
    latest: () => PollRound | undefined,
    now: () => number,
  ) {
    this.#sink = sink;
    this.#durationMs = durationMs;
    this.#latest = latest;
    this.#now = now;
    this.#startedAt = now();
    this.#ticker = setInterval(() => this.report(), 250);
  }

  report(): void {
    const latest = this.#latest();
    this.#sink({
      elapsedMs: this.#now() - this.#startedAt,
      durationMs: this.#durationMs,
      injected: this.injected,
      scheduled: this.scheduled,
      doing: this.doing,
      status: latest ? summaryLine(latest.report.peers, latest.startedAt) : 'reading status',
    });
  }

  stop(): void {
    clearInterval(this.#ticker);
  }
}

export function finalSteadyVerdict(latest: PollRound | undefined, peerCount: number): Verdict {
  const ok = latest !== undefined && converged(latest.report, peerCount);
  return {
    name: 'steady state after the run',
    ok,
    summary: latest ? summaryLine(latest.report.peers, latest.startedAt) : 'no status read',
    offending: ok
      ? []
      : (latest?.report.peers ?? []).map((p) => ({
          peer: p.name,
          state: p.state,
          error: p.error,
          leader: p.status?.leader ?? null,
        })),
  };
}

/** The container a scheduled fault acts on now, or why it cannot be applied. */
export function resolveScheduled(
  fault: ScheduledFault,
  containers: ClusterContainer[],
  leader: string | null,
): ClusterContainer | string {
  if (fault.kind === 'enclave-restart') {
    const enclave = containers.find((c) => c.role === 'enclave');
    if (!enclave) return 'the cluster has no enclave container';
    return enclave.state === 'running' ? enclave : `the enclave is ${enclave.state}`;
  }
  const name = fault.target === 'leader' ? leader : fault.target;
  if (name === null) return 'no leader is agreed on';
  const peer = peersOf(containers).find((p) => p.name === name);
  if (!peer) return `no peer ${name}`;
  if (peer.state !== 'running') return `${name} is ${peer.state}`;
  return peer;
}
