// Applying and healing the host kinds of a chaos run that need a helper: a
// peer's wall clock moved or strobed (`cluster clock`, within the documented
// bound; the peers were armed before the run, so no restart), and a CPU hog on
// the whole host (`cluster cpu --host`). Each helper is removed at the heal,
// and a run's clean-up removes any left (healEverything).
import { skewClock } from '../orchestrator/clock-fault.ts';
import type { ClusterContainer } from '../orchestrator/cluster-inventory.ts';
import { hogHost } from '../orchestrator/host-cpu-hog.ts';
import type { AppliedFault, InjectionContext } from './injection-context.ts';
import type { ScheduledFault } from './schedule.ts';

const quiet = () => undefined;

export async function applyAndHealHost(
  context: InjectionContext,
  fault: ScheduledFault,
  targets: ClusterContainer[],
): Promise<AppliedFault> {
  const { docker, selector, now } = context;
  const first = targets[0]!;
  const signal = context.signal ? { signal: context.signal } : {};
  if (fault.kind === 'clock') {
    const clock = fault.clock ?? { offsetMs: 100 };
    const start = now();
    const result = await skewClock(
      docker,
      selector,
      { target: first.container, ...clock, forMs: fault.holdMs },
      { reader: context.reader, progress: quiet, extraLabels: context.extraLabels, arm: false, ...signal },
    );
    const seen =
      result.swingMs === undefined
        ? `measured ${Math.round(result.measured.low)}..${Math.round(result.measured.high)} ms`
        : `swing seen inside it ${result.swingMs} ms`;
    return {
      targets,
      start,
      heal: now(),
      note:
        clock.strobePeriodMs === undefined
          ? `${first.name}'s wall clock ${clock.offsetMs > 0 ? '+' : ''}${clock.offsetMs} ms (${seen})`
          : `${first.name}'s wall clock strobed ±${Math.abs(clock.offsetMs)} ms every ${clock.strobePeriodMs} ms (${seen})`,
    };
  }
  const workers = fault.hogWorkers ?? 2;
  const start = now();
  const result = await hogHost(
    docker,
    selector,
    { workers, forMs: fault.holdMs },
    { progress: quiet, extraLabels: context.extraLabels, ...signal },
  );
  return {
    targets,
    start,
    heal: now(),
    note: `host CPU hog: ${workers} busy worker(s) within ${result.cpus} of ${result.hostCpus} CPUs (every peer slowed)`,
  };
}
