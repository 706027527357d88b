// Applying and healing the network kinds of a chaos run: shaping on one
// peer's namespace (delay, loss, duplicate, corrupt: `cluster net`), and
// partitions that are not clean cuts (one-way, ring, bridge: `cluster
// partition`). Healing removes the helpers and proves every container reaches
// every other again, as a clean partition's heal does.
import { type ClusterContainer, peersOf, requireCluster } from '../orchestrator/cluster-inventory.ts';
import { applyLinkCuts, bridgePlan, clearLinkCuts, oneWayPlan, ringPlan } from '../orchestrator/link-cuts.ts';
import { describeNetFault } from '../orchestrator/net-fault-spec.ts';
import { applyNetFault, clearNetFaults } from '../orchestrator/net-faults.ts';
import { healCluster } from '../orchestrator/partition.ts';
import { type AppliedFault, hold, type InjectionContext } from './injection-context.ts';
import { isNetKind, type ScheduledFault } from './schedule.ts';

const quiet = () => undefined;

/** Inject a network-kind fault on `targets` (the target first), hold it, heal it. */
export async function applyAndHealNetwork(
  context: InjectionContext,
  fault: ScheduledFault,
  targets: ClusterContainer[],
): Promise<AppliedFault> {
  const { docker, selector, now } = context;
  const first = targets[0]!;
  const helperContext = { reader: context.reader, progress: quiet, extraLabels: context.extraLabels };
  if (isNetKind(fault.kind)) {
    const spec = { ...fault.net!, seed: `${fault.index}` };
    const start = now();
    await applyNetFault(docker, selector, { target: first.container, spec }, helperContext);
    await hold(fault.holdMs, context.signal);
    await clearNetFaults(docker, selector, first.container, helperContext);
    return {
      targets,
      start,
      heal: now(),
      note: `${describeNetFault(spec)} on ${first.name}'s outgoing packets`,
    };
  }
  const containers = await requireCluster(docker, selector);
  const peers = peersOf(containers).filter((p) => p.state === 'running');
  const others = peers.filter((p) => p.id !== first.id);
  const plan =
    fault.kind === 'one-way'
      ? fault.direction === 'deaf'
        ? oneWayPlan(others, [first])
        : oneWayPlan([first], others)
      : fault.kind === 'ring'
        ? ringPlan(peers)
        : bridgePlan(peers, first);
  const start = now();
  await applyLinkCuts(docker, selector, plan, { progress: quiet, extraLabels: context.extraLabels });
  await hold(fault.holdMs, context.signal);
  await clearLinkCuts(docker, selector, { progress: quiet });
  // Connectivity is back once the cut helpers are gone; the heal's probes prove it.
  const heal = now();
  await healCluster(docker, selector, { progress: quiet });
  return { targets, start, heal, note: `${fault.kind}: ${plan.summary}` };
}
