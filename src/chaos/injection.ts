// Applying one scheduled fault to a live cluster and healing it: kill ->
// start, stop -> start, pause -> unpause, partition -> heal (real network
// moves, proved by probes), restart and enclave-restart -> wait until the
// container runs again. Each returns the times the fault took effect and was
// healed, on the host clock, for the history.
import { setTimeout as sleep } from 'node:timers/promises';
import { EnclaveElectError } from '../errors.ts';
import { type ClusterContainer, peersOf, requireCluster } from '../orchestrator/cluster-inventory.ts';
import { starveCpu } from '../orchestrator/cpu-starvation.ts';
import type { DockerClient } from '../orchestrator/docker-client.ts';
import { stopHelpers } from '../orchestrator/fault-helper.ts';
import { stopHostHogs } from '../orchestrator/host-cpu-hog.ts';
import { healCluster, partitionCluster } from '../orchestrator/partition.ts';
import { planPartition } from '../orchestrator/partition-plan.ts';
import { applyAndHealHost } from './host-injection.ts';
import { type AppliedFault, hold, type InjectionContext } from './injection-context.ts';
import { applyAndHealNetwork } from './network-injection.ts';
import type { ScheduledFault } from './schedule.ts';

export type { AppliedFault, InjectionContext } from './injection-context.ts';

/** Peers the fault cuts off: for a partition the target and its group (a minority), else the target. */
export function cutOff(
  fault: ScheduledFault,
  target: ClusterContainer,
  peers: ClusterContainer[],
): ClusterContainer[] {
  // Ring and bridge reshape every peer's links: all are affected, the target (the bridge) first.
  if (fault.kind === 'ring' || fault.kind === 'bridge') {
    return [target, ...peers.filter((p) => p.id !== target.id && p.state === 'running')];
  }
  if (fault.kind !== 'partition') return [target];
  const others = peers.filter((p) => p.id !== target.id && (fault.with ?? []).includes(p.name));
  const minority = Math.max(1, Math.floor((peers.length - 1) / 2));
  return [target, ...others].slice(0, minority);
}

async function waitRunning(docker: Pick<DockerClient, 'getContainer'>, id: string, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const info = await docker.getContainer(id).inspect();
    if (info.State.Running && !info.State.Paused) return;
    if (Date.now() > deadline)
      throw new EnclaveElectError('E_TIMEOUT', `${id.slice(0, 12)} did not run again`);
    await sleep(200);
  }
}

/** Inject `fault` on `targets` (resolved by the caller), hold it, heal it. */
export async function applyAndHeal(
  context: InjectionContext,
  fault: ScheduledFault,
  targets: ClusterContainer[],
  enclaveWithIsolated: boolean,
): Promise<AppliedFault> {
  const { docker, now } = context;
  const first = targets[0]!;
  const container = docker.getContainer(first.id);
  switch (fault.kind) {
    case 'kill': {
      const start = now();
      await container.kill({ signal: 'SIGKILL' });
      await hold(fault.holdMs, context.signal);
      await container.start();
      return { targets, start, heal: now(), note: 'SIGKILL, then start' };
    }
    case 'stop': {
      const start = now();
      await container.stop({ t: 10 });
      await hold(fault.holdMs, context.signal);
      await container.start();
      return { targets, start, heal: now(), note: 'SIGTERM (graceful), then start' };
    }
    case 'pause': {
      const start = now();
      await container.pause();
      await hold(fault.holdMs, context.signal);
      await container.unpause();
      return { targets, start, heal: now(), note: 'frozen, then unpaused' };
    }
    case 'restart':
    case 'enclave-restart': {
      const start = now();
      await container.restart({ t: 10 });
      await waitRunning(docker, first.id, 30_000);
      return { targets, start, heal: now(), note: 'restarted (SIGTERM, start)' };
    }
    case 'delay':
    case 'loss':
    case 'duplicate':
    case 'corrupt':
    case 'one-way':
    case 'ring':
    case 'bridge':
      return applyAndHealNetwork(context, fault, targets);
    case 'clock':
    case 'host-cpu':
      return applyAndHealHost(context, fault, targets);
    case 'cpu': {
      const start = now();
      const share = fault.cpuSharePercent ?? 10;
      await starveCpu(
        docker,
        context.selector,
        { target: first.container, sharePercent: share, forMs: fault.holdMs },
        {
          reader: context.reader,
          progress: () => undefined,
          ...(context.signal ? { signal: context.signal } : {}),
        },
      );
      return {
        targets,
        start,
        heal: now(),
        note: `${first.name} held to ${share}% of one CPU (cgroup quota)`,
      };
    }
    case 'partition': {
      const containers = await requireCluster(docker, context.selector);
      const plan = await planPartition(
        containers,
        { groups: [targets.map((t) => t.name)], isolate: true },
        enclaveWithIsolated ? 'A' : 'B',
        context.reader,
      );
      const start = now();
      await partitionCluster(docker, context.selector, plan, {
        progress: () => undefined,
        extraLabels: context.extraLabels,
      });
      await hold(fault.holdMs, context.signal);
      let moved: number | undefined;
      await healCluster(docker, context.selector, {
        // Connectivity is back once the moves are done; the proof that follows only confirms it.
        progress: (line) => {
          if (moved === undefined && line.startsWith('removed network')) moved = now();
        },
      });
      return {
        targets,
        start,
        heal: moved ?? now(),
        note: `isolated ${targets.map((t) => t.name).join(', ')} ${enclaveWithIsolated ? 'with' : 'from'} the enclave`,
      };
    }
  }
}

/**
 * Undo whatever is left (a run cut short): partitions healed, paused peers
 * unpaused, stopped ones started. Returns what it did.
 */
export async function healEverything(context: InjectionContext): Promise<string[]> {
  const { docker, selector } = context;
  const done: string[] = [];
  const containers = await requireCluster(docker, selector);
  for (const c of [...containers.filter((c) => c.role === 'enclave'), ...peersOf(containers)]) {
    // One container the engine cannot bring back must not stop the others being healed.
    try {
      if (c.state === 'paused') {
        await docker.getContainer(c.id).unpause();
        done.push(`unpaused ${c.name}`);
      } else if (c.state === 'exited' || c.state === 'created') {
        await docker.getContainer(c.id).start();
        done.push(`started ${c.name}`);
      }
    } catch (error) {
      done.push(`could not restore ${c.name} (${c.state}): ${(error as Error).message.split('\n')[0]}`);
    }
  }
  // Net faults and link cuts: their helpers remove what they added when stopped.
  const helpers = (await Promise.all(containers.map((c) => stopHelpers(docker, c.id)))).flat();
  if (helpers.length > 0) done.push(`removed ${helpers.length} fault helper(s)`);
  const hogs = await stopHostHogs(docker, selector);
  if (hogs.length > 0) done.push(`removed the host CPU hog (${hogs.join(', ')})`);
  const healed = await healCluster(docker, selector, { progress: () => undefined });
  if (healed.moved.length > 0) done.push(`healed partition (${healed.moved.join(', ')})`);
  return done;
}
