// `cluster chaos --swarm STACK`: the seeded schedule against a stack deployed
// across a swarm, through the manager alone. Faults are the swarm forms of the
// classic kinds: kill, stop and pause by a one-shot job on the task's node
// (swarm-faults.ts), clean partitions by cuts in the tasks' namespaces
// (swarm-partition.ts). A killed or stopped task is not started again by us:
// the swarm replaces it with a new task in the same slot, a new member; the
// schedule's targets follow the slot. Status comes from the stack's network,
// the history from the services' logs, and the same invariants are checked.
import { setTimeout as sleep } from 'node:timers/promises';
import { EnclaveElectError, UsageError } from '../errors.ts';
import { converged } from '../orchestrator/convergence.ts';
import { type ClusterStatusReport, type PeerReport, summaryLine } from '../orchestrator/status-report.ts';
import { applySwarmFault, type SwarmFaultClient } from '../orchestrator/swarm-faults.ts';
import { healSwarm, partitionSwarm, type SwarmPartitionClient } from '../orchestrator/swarm-partition.ts';
import { planSwarmPartition } from '../orchestrator/swarm-partition-plan.ts';
import { readStack } from '../orchestrator/swarm-status.ts';
import { listStackTasks, type StackTask } from '../orchestrator/swarm-tasks.ts';
import type { ContainerExit, FaultRecord, History } from './history.ts';
import { hold } from './injection-context.ts';
import {
  type ChaosProgress,
  type ChaosRun,
  concludeRun,
  RunProgress,
  type SkippedFault,
} from './run-chaos.ts';
import { ENDS_PROCESS, type FaultKind, generateSchedule, type ScheduledFault } from './schedule.ts';
import { type PollRound, StatusPoller } from './status-poller.ts';
import { type StackLogClient, stackLogEvents } from './swarm-recording.ts';

/** The kinds a swarm run can inject. */
export const SWARM_CHAOS_KINDS = [
  'kill',
  'stop',
  'pause',
  'partition',
] as const satisfies readonly FaultKind[];

/** Refuse, naming them, the kinds a swarm run cannot inject. */
export function checkSwarmKinds(kinds: readonly FaultKind[]): void {
  const refused = kinds.filter((k) => !(SWARM_CHAOS_KINDS as readonly string[]).includes(k));
  if (refused.length > 0) {
    throw new UsageError(
      `--swarm cannot inject ${refused.join(', ')}; on a swarm stack chaos injects ${SWARM_CHAOS_KINDS.join(', ')} (--faults ${SWARM_CHAOS_KINDS.join(',')})`,
    );
  }
}

export type SwarmChaosDocker = SwarmFaultClient & SwarmPartitionClient & StackLogClient;

export interface SwarmChaosOptions {
  seed: string;
  durationMs: number;
  intervalMs: number;
  faults: FaultKind[];
  stack: string;
  leaseMs: number;
  extraLabels?: Record<string, string>;
  /** Time between status rounds (default 1 s; a round itself takes a reader container's life). */
  pollIntervalMs?: number;
  /** How long the stack has to agree before the run and after it (default 60 s). */
  steadyTimeoutMs?: number;
  /** How long a killed or stopped task's slot may take to run a new task (default 60 s). */
  replaceTimeoutMs?: number;
}

export interface SwarmChaosContext {
  docker: SwarmChaosDocker;
  progress: (state: ChaosProgress) => void;
  note: (line: string) => void;
  signal?: AbortSignal;
  now?: () => number;
}

/** Agreement is due within lease + 2 s of a heal; the runner waits longer so a late agreement is measured. */
const SETTLE_EXTRA_MS = 6000;

/** The slot of a peer report (`ee_peer.3` of `ee_peer.3@node2`): what a schedule's target follows. */
export function slotOf(report: Pick<PeerReport, 'container'>): string {
  return report.container.split('@')[0]!;
}

/**
 * The member a scheduled name means now: the leader, or whoever runs in the
 * slot the name had when the schedule was drawn (a replaced task is a new member).
 */
export function resolveSwarmScheduled(
  target: string,
  reports: PeerReport[],
  slots: ReadonlyMap<string, string>,
  leader: string | null,
): PeerReport | string {
  const running = reports.filter((r) => r.state === 'running');
  if (target === 'leader') {
    if (leader === null) return 'no leader is agreed on';
    return running.find((r) => r.name === leader) ?? `the leader ${leader} runs in no task`;
  }
  const slot = slots.get(target);
  if (slot === undefined) return `no peer ${target}`;
  return running.find((r) => slotOf(r) === slot) ?? `no task runs in ${target}'s slot ${slot}`;
}

/** Peers of one stack round, with the ones a fault holds reported as not read. */
async function readRound(
  docker: SwarmChaosDocker,
  stack: string,
  cutOff: ReadonlySet<string>,
): Promise<ClusterStatusReport> {
  const { reports } = await readStack(docker, stack);
  const peers = reports.map((r) =>
    cutOff.has(r.name) || cutOff.has(r.container)
      ? { ...r, status: null, error: 'not read while a fault acts on it' }
      : r,
  );
  return { cluster: stack, peers, agreed: false, leader: null, epoch: null };
}

/**
 * Events that say who a member is (its admitted key), whenever they were
 * logged: the member's own, and the enclave's record of each admission (it
 * outlives a task the swarm replaced, whose log may be gone).
 */
const IDENTITY_EVENTS = new Set(['peer.started', 'admission.granted', 'enclave.admitted']);

/**
 * Which logged events a run's history keeps: everything from the run's start;
 * from before it, the leadership events of the stack's members when it began
 * (a leader's interval may predate the run), the certificate each of them held
 * when it began (a heal that changes no leader is measured against it, not
 * against when the runner next managed to read the peer), and every task's
 * identity events (the keys that certificates naming it are checked against).
 * Leadership of a task gone before the run is not kept: one that died leading
 * never logged its release, and its interval would seem to run on through the
 * whole run. Nor are certificates a member replaced before the run: their
 * leader's node may be gone, and its key with it.
 */
export function eventsOfRun<E extends { t: number; peer: string; event: string }>(
  events: readonly E[],
  startedAt: number,
  initialMembers: ReadonlySet<string>,
): E[] {
  const heldAtStart = new Map<string, E>();
  for (const e of events) {
    if (e.t >= startedAt || e.event !== 'certificate.accepted' || !initialMembers.has(e.peer)) continue;
    const held = heldAtStart.get(e.peer);
    if (held === undefined || held.t <= e.t) heldAtStart.set(e.peer, e);
  }
  const held = new Set(heldAtStart.values());
  return events.filter(
    (e) =>
      e.t >= startedAt ||
      IDENTITY_EVENTS.has(e.event) ||
      held.has(e) ||
      (initialMembers.has(e.peer) && e.event.startsWith('leader.')),
  );
}

/** Wait until the slot runs a task other than `replaced`; when it did. */
async function waitReplaced(
  docker: SwarmChaosDocker,
  stack: string,
  slot: string,
  replaced: string,
  timeoutMs: number,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const tasks = await listStackTasks(docker, stack);
    const fresh = tasks.find((t) => t.name === slot && t.id !== replaced && t.state === 'running');
    if (fresh) return Date.now();
    if (Date.now() > deadline) {
      throw new EnclaveElectError(
        'E_TIMEOUT',
        `the swarm ran no new task in ${slot} within ${timeoutMs / 1000} s`,
      );
    }
    await sleep(500);
  }
}

/** Peer tasks that ended during the run, named by the member each was when a fault hit it. */
export function taskExits(
  tasks: StackTask[],
  from: number,
  to: number,
  members: ReadonlyMap<string, string>,
): ContainerExit[] {
  return tasks
    .filter(
      (t) =>
        t.service === 'peer' &&
        ['failed', 'complete', 'shutdown'].includes(t.state) &&
        t.changedAt !== undefined &&
        t.changedAt >= from &&
        t.changedAt <= to,
    )
    .map((t) => ({
      t: t.changedAt!,
      name: members.get(t.id) ?? t.name,
      container: `${t.name}@${t.node}`,
      exitCode: t.exitCode ?? null,
    }))
    .sort((a, b) => a.t - b.t);
}

export async function runSwarmChaos(
  options: SwarmChaosOptions,
  context: SwarmChaosContext,
): Promise<ChaosRun> {
  checkSwarmKinds(options.faults);
  const now = context.now ?? Date.now;
  const { docker, stack } = { docker: context.docker, stack: options.stack };
  const poller = StatusPoller.over(
    (cutOff) => readRound(docker, stack, cutOff),
    options.pollIntervalMs ?? 1000,
    now,
  );
  const steadyTimeoutMs = options.steadyTimeoutMs ?? 60_000;
  const startedAt = now();
  let schedule: ScheduledFault[] = [];
  const initial = await readStack(docker, stack);
  const progress = new RunProgress(context.progress, options.durationMs, () => poller.latest, now);
  const peerCount = initial.reports.length;
  const steadyRound = (round: PollRound) => converged(round.report, peerCount);
  // Task id -> the member it was when a fault hit it, for naming its exit.
  const memberOfTask = new Map<string, string>();
  const faults: FaultRecord[] = [];
  const skipped: SkippedFault[] = [];
  const cleanup: string[] = [];
  let members: string[] = [];
  poller.start();
  try {
    const steady = await poller.until(steadyRound, startedAt, steadyTimeoutMs);
    if (!steady) {
      const line = poller.latest
        ? summaryLine(poller.latest.report.peers, poller.latest.startedAt)
        : 'no status could be read';
      throw new EnclaveElectError(
        'E_NOT_STEADY',
        `refusing to inject faults: stack '${stack}' is not in a steady state (every peer task running and agreeing on one verified leader) after ${steadyTimeoutMs / 1000} s: ${line}. \`enclave-elect cluster status --swarm ${stack}\` shows each peer's view.`,
      );
    }
    members = steady.report.peers.map((p) => p.name);
    const slots = new Map(steady.report.peers.map((p) => [p.name, slotOf(p)]));
    schedule = generateSchedule({
      seed: options.seed,
      durationMs: options.durationMs,
      intervalMs: options.intervalMs,
      faults: options.faults,
      peers: members,
    });
    progress.scheduled = schedule.length;
    const deadline = startedAt + options.durationMs;
    for (const fault of schedule) {
      if (context.signal?.aborted || now() + fault.gapMs >= deadline) break;
      progress.doing = `quiet for ${(fault.gapMs / 1000).toFixed(1)}s before fault ${fault.index} (${fault.kind})`;
      await sleep(fault.gapMs, undefined, { signal: context.signal }).catch(() => undefined);
      if (context.signal?.aborted) break;
      const round = poller.latest!.report;
      const agreed = round.peers.find((p) => p.status?.isLeader === true)?.name ?? null;
      const view = round.peers.find((p) => p.status?.leader)?.status?.leader;
      const target = resolveSwarmScheduled(fault.target, round.peers, slots, agreed);
      if (typeof target === 'string') {
        skipped.push({ index: fault.index, kind: fault.kind, reason: target });
        context.note(`fault ${fault.index} (${fault.kind}) skipped: ${target}`);
        continue;
      }
      const group = [target];
      if (fault.kind === 'partition') {
        const minority = Math.max(1, Math.floor((peerCount - 1) / 2));
        for (const name of fault.with ?? []) {
          const other = resolveSwarmScheduled(name, round.peers, slots, agreed);
          if (typeof other !== 'string' && !group.includes(other) && group.length < minority)
            group.push(other);
        }
      }
      const withEnclave = fault.kind === 'partition' && fault.enclaveSide === 'isolated';
      const others = round.peers.filter((p) => !group.includes(p)).map((p) => p.name);
      const label = `${fault.kind} ${group.map((g) => g.name).join(',')}${fault.target === 'leader' ? ' (leader)' : ''}`;
      progress.doing = `fault ${fault.index}: ${label}`;
      const held = group.flatMap((g) => [g.name, g.container]);
      await poller.hold(held);
      const tasks = (await readStack(docker, stack)).tasks;
      const taskOf = (r: PeerReport) => tasks.find((t) => `${t.name}@${t.node}` === r.container);
      for (const g of group) {
        const task = taskOf(g);
        if (task) memberOfTask.set(task.id, g.name);
      }
      const record: FaultRecord = {
        kind: fault.kind,
        target: target.name,
        start: now(),
        heal: null,
        endsProcess: ENDS_PROCESS.has(fault.kind),
        leaderAtStart: view?.name ?? null,
        epochAtStart: view?.epoch ?? null,
        survivors: withEnclave ? [] : others,
        ...(fault.kind === 'partition' ? { peers: group.map((g) => g.name) } : {}),
      };
      faults.push(record);
      progress.injected += 1;
      try {
        const slot = slotOf(target);
        switch (fault.kind) {
          case 'kill':
          case 'stop': {
            const result = await applySwarmFault(docker, stack, {
              fault: fault.kind,
              target: slot,
              ...(fault.kind === 'stop' ? { graceSeconds: 10 } : {}),
            });
            record.start = Date.parse(result.startedAt);
            record.processEndedAt = Date.parse(result.at);
            await hold(fault.holdMs, context.signal);
            record.heal = await waitReplaced(
              docker,
              stack,
              slot,
              taskOf(target)?.id ?? '',
              options.replaceTimeoutMs ?? 60_000,
            );
            record.note = `${fault.kind === 'kill' ? 'SIGKILL' : 'SIGTERM (graceful)'} on ${result.task}; the swarm ran a new task in ${slot}`;
            break;
          }
          case 'pause': {
            const result = await applySwarmFault(docker, stack, { fault: 'pause', target: slot });
            record.start = Date.parse(result.at);
            await hold(fault.holdMs, context.signal);
            record.heal = Date.parse(
              (await applySwarmFault(docker, stack, { fault: 'unpause', target: slot })).at,
            );
            record.note = `frozen on ${result.node}, then unpaused`;
            break;
          }
          case 'partition': {
            const plan = planSwarmPartition(
              tasks,
              round.peers,
              { groups: [group.map((g) => slotOf(g))], isolate: true },
              withEnclave ? 'A' : 'B',
            );
            const applied = await partitionSwarm(docker, stack, plan, {
              progress: () => undefined,
              ...(options.extraLabels ? { extraLabels: options.extraLabels } : {}),
            });
            record.start = applied.appliedAt;
            await hold(fault.holdMs, context.signal);
            record.heal = (await healSwarm(docker, stack, { progress: () => undefined })).healedAt;
            record.note = `isolated ${group.map((g) => g.name).join(', ')} ${withEnclave ? 'with' : 'from'} the enclave`;
            break;
          }
          default:
            throw new UsageError(`${fault.kind} cannot be injected on a swarm`);
        }
      } catch (error) {
        record.note = `failed: ${(error as Error).message.split('\n')[0]}`;
        context.note(`fault ${fault.index} (${label}) failed: ${(error as Error).message}`);
        cleanup.push(...(await healStack(docker, stack)));
        record.heal ??= now();
      } finally {
        poller.release(held);
      }
      progress.doing = `fault ${fault.index}: ${label} healed, waiting for agreement`;
      await poller.until(steadyRound, record.heal!, options.leaseMs + 2000 + SETTLE_EXTRA_MS);
    }
    progress.doing = 'healing everything';
    cleanup.push(...(await healStack(docker, stack)));
    progress.doing = 'waiting for the steady state';
    await poller.until(steadyRound, now(), steadyTimeoutMs);
  } catch (error) {
    progress.stop();
    throw error;
  } finally {
    await poller.stop();
  }
  const endedAt = now();
  const initialMembers = new Set(members.length > 0 ? members : initial.reports.map((r) => r.name));
  progress.doing = "reading the stack's logs for the history";
  const logsFrom = now();
  const logged = await stackLogEvents(docker, stack, ['peer', 'enclave'], 0).finally(() => progress.stop());
  const events = eventsOfRun(logged.events, startedAt, initialMembers);
  context.note(
    `read ${logged.events.length} events from the stack's task logs in ${((now() - logsFrom) / 1000).toFixed(1)} s; ${events.length} belong to the run`,
  );
  for (const gap of logged.unread) {
    context.note(`the history lacks the log of ${gap.task} on ${gap.node}: ${gap.reason}`);
  }
  const exits = taskExits(await listStackTasks(docker, stack), startedAt, endedAt, memberOfTask);
  const history: History = {
    peers: [...initialMembers],
    leaseMs: options.leaseMs,
    startedAt,
    endedAt,
    events,
    faults,
    observations: poller.observations,
    exits,
  };
  progress.report();
  return concludeRun({
    seed: options.seed,
    schedule,
    skipped,
    history,
    latest: poller.latest,
    peerCount,
    cleanup: [...new Set(cleanup)],
    interrupted: context.signal?.aborted ?? false,
  });
}

/** Undo what a run may have left: partition helpers removed, paused peer tasks unpaused. */
async function healStack(docker: SwarmChaosDocker, stack: string): Promise<string[]> {
  const done: string[] = [];
  try {
    const healed = await healSwarm(docker, stack, { progress: () => undefined });
    if (healed.removed.length > 0) done.push(`removed partition helpers of ${healed.removed.join(', ')}`);
  } catch (error) {
    done.push(`partition heal failed: ${(error as Error).message.split('\n')[0]}`);
  }
  const { reports } = await readStack(docker, stack);
  for (const r of reports.filter((r) => r.state === 'running' && r.status === null)) {
    // A task that runs but does not answer may be paused: unpausing one that is not fails harmlessly.
    const unpaused = await applySwarmFault(docker, stack, { fault: 'unpause', target: slotOf(r) }).then(
      () => true,
      () => false,
    );
    if (unpaused) done.push(`unpaused ${r.name}`);
  }
  return done;
}
