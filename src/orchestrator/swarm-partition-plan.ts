// A clean partition of a swarm stack, before anything is touched: the groups
// of `cluster partition ... --swarm STACK` (the same words as for a compose
// cluster) resolved to the stack's running tasks, and what each task must stop
// hearing. On a swarm every task sits on one overlay network across engines,
// so nobody moves network: each task drops, in its own network namespace, the
// packets from the overlay addresses of the tasks it shares no side with.
import { UsageError } from '../errors.ts';
import { type PartitionSpec, parseEnclaveSide, sideName } from './partition-plan.ts';
import type { PeerReport } from './status-report.ts';
import { resolveSwarmTarget } from './swarm-faults.ts';
import type { StackTask } from './swarm-tasks.ts';

/** A task and its member name (the peer's own, from its /status; the task name for the enclave). */
export interface NamedTask {
  task: StackTask;
  name: string;
}

export interface SwarmPartitionPlan {
  sides: { side: string; peers: NamedTask[] }[];
  /** The stack's running enclave task(s), and the sides each reaches. */
  enclaves: NamedTask[];
  enclaveSides: string[];
}

/** What one task stops hearing: the overlay addresses of every task it shares no side with. */
export interface SwarmCut {
  task: StackTask;
  name: string;
  dropFrom: string[];
  deafTo: string[];
}

/** Resolve the groups to running peer tasks: each peer on exactly one side, every peer placed. */
export function planSwarmPartition(
  tasks: StackTask[],
  reports: PeerReport[],
  spec: PartitionSpec,
  /** A, B, ..., both; default: A, or B (the others) with isolate. */
  enclaveSide: string | undefined,
): SwarmPartitionPlan {
  const running = tasks.filter((t) => t.state === 'running');
  const peers = running.filter((t) => t.service === 'peer');
  const memberName = (task: StackTask) =>
    reports.find((r) => r.container === `${task.name}@${task.node}`)?.name ?? task.name;
  const seen = new Map<string, string>();
  const sides: SwarmPartitionPlan['sides'] = [];
  for (const [index, group] of spec.groups.entries()) {
    const side = { side: sideName(index), peers: [] as NamedTask[] };
    for (const word of group) {
      const { task, name } = resolveSwarmTarget(tasks, reports, word);
      if (task.service !== 'peer') {
        throw new UsageError(`${word} is not a peer task; place the enclave with --enclave-side`);
      }
      const earlier = seen.get(task.id);
      if (earlier !== undefined)
        throw new UsageError(`${name} is named twice (sides ${earlier} and ${side.side})`);
      seen.set(task.id, side.side);
      side.peers.push({ task, name });
    }
    sides.push(side);
  }
  const rest = peers.filter((t) => !seen.has(t.id)).map((task) => ({ task, name: memberName(task) }));
  if (spec.isolate) {
    if (rest.length === 0) throw new UsageError('isolating every peer leaves nobody on the other side');
    sides.push({ side: sideName(1), peers: rest });
  } else if (rest.length > 0) {
    throw new UsageError(
      `${rest.map((p) => p.name).join(', ')} ${rest.length === 1 ? 'is' : 'are'} in no group: list every running peer task, or use \`partition isolate ...\``,
    );
  }
  return {
    sides,
    enclaves: running.filter((t) => t.service === 'enclave').map((task) => ({ task, name: task.service })),
    enclaveSides: parseEnclaveSide(enclaveSide ?? (spec.isolate ? 'B' : 'A'), sides.length),
  };
}

/** Every task the plan places, with its side(s). */
export function placed(plan: SwarmPartitionPlan): (NamedTask & { sides: string[] })[] {
  return [
    ...plan.sides.flatMap(({ side, peers }) => peers.map((p) => ({ ...p, sides: [side] }))),
    ...plan.enclaves.map((e) => ({ ...e, sides: plan.enclaveSides })),
  ];
}

/** Whether two placed tasks still hear each other: they share a side. */
export function sameSide(a: { sides: string[] }, b: { sides: string[] }): boolean {
  return a.sides.some((side) => b.sides.includes(side));
}

/** The cut each task needs; tasks that must hear everyone get none. */
export function swarmCuts(plan: SwarmPartitionPlan): SwarmCut[] {
  const all = placed(plan);
  return all.flatMap((listener) => {
    const away = all.filter((other) => other.task.id !== listener.task.id && !sameSide(listener, other));
    const addressed = away.filter((other) => other.task.address !== undefined);
    if (addressed.length === 0) return [];
    return [
      {
        task: listener.task,
        name: listener.name,
        dropFrom: addressed.map((other) => other.task.address!),
        deafTo: addressed.map((other) => other.name),
      },
    ];
  });
}
