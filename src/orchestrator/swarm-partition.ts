// `cluster partition ... --swarm STACK` and `cluster heal --swarm STACK`: a
// clean partition of a stack's tasks across the swarm's nodes, made in the
// kernel. Each task that must stop hearing others gets a fault helper
// (deploy/fault-helper/, kind `cut`) in its network namespace, started on its
// node by a one-shot job (swarm-node-job.ts), that drops the other sides'
// overlay addresses on INPUT. Partitions and heals are proved by TCP probes
// from inside the tasks; heal removes every helper of the stack, sweeps and
// checks each namespace, and proves every task reaches every other.
import { setTimeout as sleep } from 'node:timers/promises';
import { EnclaveElectError } from '../errors.ts';
import { HELPER_LABEL, helperContainerOptions, helperImageTag } from './fault-helper.ts';
import { LABEL } from './labels.ts';
import { helperArgs } from './net-fault-spec.ts';
import { HEAL_SETTLE_MS, proofFailure, type ReachabilityProof } from './partition.ts';
import { isReachable, PROBE_PORT, type ProbeResult, probeScript } from './reachability.ts';
import { type NodeJobClient, type NodeJobOptions, type NodeStep, runNodeJob } from './swarm-node-job.ts';
import {
  type NamedTask,
  placed,
  type SwarmPartitionPlan,
  sameSide,
  swarmCuts,
} from './swarm-partition-plan.ts';
import { readStack, type StackReadClient } from './swarm-status.ts';
import type { StackTask } from './swarm-tasks.ts';

/** On every helper a swarm partition starts: the stack it belongs to, so heal finds them on any node. */
export const SWARM_STACK_LABEL = 'io.enclave-elect.swarm-stack';
const READY = 'net-fault: ready';
const PROBE_TIMEOUT_MS = 1500;

export type SwarmPartitionClient = StackReadClient & NodeJobClient;

export interface SwarmPartitionContext {
  progress: (line: string) => void;
  /** The fault helper image, present on every node (default: the tag this checkout builds). */
  helperImage?: string;
  extraLabels?: Record<string, string>;
  job?: NodeJobOptions;
  /** How the result is proved; tests pass their own. */
  prove?: SwarmProver;
  /** How long a heal's proof may keep disagreeing before it fails (default HEAL_SETTLE_MS). */
  settleMs?: number;
}

export interface SwarmPartitionResult {
  stack: string;
  sides: { side: string; peers: string[]; enclave: boolean }[];
  cuts: { peer: string; task: string; deafTo: string[] }[];
  /** When the last cut was in place (ms, the nodes' clocks), before the proof. */
  appliedAt: number;
  proof: ReachabilityProof;
}

export interface SwarmHealResult {
  stack: string;
  /** Helpers removed, as `<member>@<node>` (or the container id when its task is gone). */
  removed: string[];
  /** When the last node had removed its helpers (ms, the nodes' clocks), before the proof. */
  healedAt: number;
  proof: ReachabilityProof;
}

/** Group items by the node their task runs on. */
function byNode<T>(items: T[], task: (item: T) => StackTask): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const id = task(item).nodeId;
    groups.set(id, [...(groups.get(id) ?? []), item]);
  }
  return groups;
}

function helperImageFor(context: SwarmPartitionContext): string {
  return context.helperImage ?? helperImageTag();
}

function missingImageHint(image: string, error: unknown): EnclaveElectError | unknown {
  if (!(error instanceof Error) || !error.message.includes(`no image ${image}`)) return error;
  return new EnclaveElectError(
    'E_IMAGE_MISSING',
    `${error.message}. Swarm partitions run the fault helper image on each task's node: build it here (any \`cluster net\` command does, or \`docker build -t ${image} deploy/fault-helper\`), then push it to a registry the nodes use, or \`docker save ${image} | docker load\` on every node`,
    { cause: error },
  );
}

/** The helper a cut needs, as an engine create body for the task's node. */
export function cutHelperCreate(
  stack: string,
  image: string,
  task: StackTask,
  cmd: string[],
  describe: string,
  extraLabels: Record<string, string> = {},
) {
  return helperContainerOptions({
    image,
    target: task.containerId ?? '',
    cmd,
    kind: 'cut',
    describe,
    labels: { ...extraLabels, [SWARM_STACK_LABEL]: stack },
    autoRemove: false,
  });
}

/** The labels that find every partition helper of a stack on a node. */
export function stackHelperLabels(stack: string): string[] {
  return [`${LABEL.role}=fault-helper`, `${HELPER_LABEL.kind}=cut`, `${SWARM_STACK_LABEL}=${stack}`];
}

/** Probe from each running task to every other, one job per node, and compare with `expected`. */
export async function proveSwarmReachability(
  docker: NodeJobClient,
  members: NamedTask[],
  expected: (from: NamedTask, to: NamedTask) => boolean,
  job: NodeJobOptions = {},
): Promise<ReachabilityProof> {
  const probeable = (m: NamedTask) =>
    m.task.state === 'running' && m.task.containerId !== undefined && m.task.address !== undefined;
  const skipped = members.filter((m) => !probeable(m)).map((m) => `${m.name} (${m.task.state})`);
  const running = members.filter(probeable);
  const perNode = await Promise.all(
    [...byNode(running, (m) => m.task)].map(async ([nodeId, sources]) => {
      const targets = (from: NamedTask) => running.filter((to) => to.task.id !== from.task.id);
      const steps: NodeStep[] = sources.map((from) => ({
        op: 'exec',
        container: from.task.containerId!,
        cmd: [
          'node',
          '-e',
          probeScript(
            targets(from).map((to) => to.task.address!),
            PROBE_PORT,
            PROBE_TIMEOUT_MS,
          ),
        ],
      }));
      const results = await runNodeJob(
        docker,
        { nodeId, node: sources[0]!.task.node, image: sources[0]!.task.image, steps },
        job,
      );
      return sources.flatMap((from, i) => {
        let outcomes: string[] = [];
        try {
          outcomes = JSON.parse(results[i]?.stdout ?? '') as string[];
        } catch {
          // A probe that printed nothing counts every target as unanswered, below.
        }
        return targets(from).map((to, j): ProbeResult & { expected: boolean } => {
          const outcome =
            outcomes[j] ?? `no result (${results[i]?.stderr?.trim().slice(0, 80) || 'probe failed'})`;
          return {
            from: from.name,
            to: to.name,
            address: to.task.address!,
            outcome,
            reachable: isReachable(outcome),
            expected: expected(from, to),
          };
        });
      });
    }),
  );
  const all = perNode.flat();
  return { checked: all.length, unexpected: all.filter((r) => r.reachable !== r.expected), skipped };
}

export type SwarmProver = typeof proveSwarmReachability;

/** Apply the plan: on every node of a placed task, remove the stack's old helpers, start the new cuts; then prove. */
export async function partitionSwarm(
  docker: SwarmPartitionClient,
  stack: string,
  plan: SwarmPartitionPlan,
  context: SwarmPartitionContext,
): Promise<SwarmPartitionResult> {
  const image = helperImageFor(context);
  const members = placed(plan);
  const cuts = swarmCuts(plan);
  for (const cut of cuts) {
    if (cut.task.containerId === undefined) {
      throw new EnclaveElectError('E_STATE', `${cut.name} (${cut.task.name}) has no container yet`);
    }
  }
  let appliedAt = 0;
  await Promise.all(
    [...byNode(members, (m) => m.task)].map(async ([nodeId, here]) => {
      const mine = cuts.filter((c) => c.task.nodeId === nodeId);
      const steps: NodeStep[] = [
        { op: 'remove', labels: stackHelperLabels(stack) },
        ...(mine.length > 0 ? [{ op: 'image' as const, name: image, require: true }] : []),
        ...mine.map(
          (cut): NodeStep => ({
            op: 'run',
            create: cutHelperCreate(
              stack,
              image,
              cut.task,
              ['apply', ...helperArgs({ dropFrom: cut.dropFrom })],
              `swarm partition: deaf to ${cut.deafTo.join(', ')}`,
              context.extraLabels,
            ),
            readyText: READY,
          }),
        ),
      ];
      try {
        const results = await runNodeJob(
          docker,
          { nodeId, node: here[0]!.task.node, image: here[0]!.task.image, steps },
          context.job,
        );
        for (const r of results) appliedAt = Math.max(appliedAt, Date.parse(r.at) || 0);
      } catch (error) {
        throw missingImageHint(image, error);
      }
      for (const cut of mine)
        context.progress(`${cut.name} (${cut.task.node}) no longer hears ${cut.deafTo.join(', ')}`);
    }),
  );
  const proof = await (context.prove ?? proveSwarmReachability)(
    docker,
    members,
    sameSideOf(members),
    context.job,
  );
  if (proof.unexpected.length > 0) throw proofFailure('the swarm partition is in place', proof);
  return {
    stack,
    sides: plan.sides.map(({ side, peers }) => ({
      side,
      peers: peers.map((p) => p.name),
      enclave: plan.enclaveSides.includes(side),
    })),
    cuts: cuts.map((c) => ({ peer: c.name, task: `${c.task.name}@${c.task.node}`, deafTo: c.deafTo })),
    appliedAt: appliedAt || Date.now(),
    proof,
  };
}

function sameSideOf(members: ReturnType<typeof placed>) {
  const sides = new Map(members.map((m) => [m.task.id, m]));
  return (a: NamedTask, b: NamedTask) => sameSide(sides.get(a.task.id)!, sides.get(b.task.id)!);
}

/** The stack's running peer and enclave tasks, named as their /status names them. */
async function namedTasks(docker: SwarmPartitionClient, stack: string): Promise<NamedTask[]> {
  const { tasks, reports } = await readStack(docker, stack);
  return tasks
    .filter((t) => t.service === 'peer' || t.service === 'enclave')
    .map((task) => ({
      task,
      name:
        task.service === 'peer'
          ? (reports.find((r) => r.container === `${task.name}@${task.node}`)?.name ?? task.name)
          : task.service,
    }));
}

interface SwarmNodeInfo {
  ID: string;
  Description?: { Hostname?: string };
  Status?: { State?: string };
  Spec?: { Availability?: string };
}

/**
 * The nodes a heal can run a job on: ready and active. A drained or paused node
 * takes no new task, so a job there would never start; a drained one runs no
 * task of ours either, but a paused one may, and that is said.
 */
export function sweepableNodes(
  nodes: SwarmNodeInfo[],
  withTasks: ReadonlySet<string>,
  progress: (line: string) => void,
): SwarmNodeInfo[] {
  const ready = nodes.filter((n) => (n.Status?.State ?? 'ready') === 'ready');
  for (const n of ready) {
    const availability = n.Spec?.Availability ?? 'active';
    if (availability !== 'active' && withTasks.has(n.ID)) {
      progress(
        `warning: ${n.Description?.Hostname ?? n.ID} is ${availability} and runs tasks of the stack; no job can run there, so its partition helpers (if any) stay until it is active again`,
      );
    }
  }
  return ready.filter((n) => (n.Spec?.Availability ?? 'active') === 'active');
}

/** Remove every partition helper of the stack on every ready node, check each namespace is clean, prove full reach. */
export async function healSwarm(
  docker: SwarmPartitionClient,
  stack: string,
  context: SwarmPartitionContext,
): Promise<SwarmHealResult> {
  const image = helperImageFor(context);
  const members = await namedTasks(docker, stack);
  const nodes = sweepableNodes(
    (await docker.listNodes()) as SwarmNodeInfo[],
    new Set(members.map((m) => m.task.nodeId)),
    context.progress,
  );
  const jobImage = members[0]?.task.image;
  if (jobImage === undefined)
    throw new EnclaveElectError('E_NOT_FOUND', `stack '${stack}' has no task to heal`);
  const sweep: NodeStep = {
    op: 'sweep',
    labels: stackHelperLabels(stack),
    targetLabel: HELPER_LABEL.target,
    create: cutHelperCreate(stack, image, members[0]!.task, [], 'swarm heal: sweep', context.extraLabels),
  };
  const removed: string[] = [];
  const left: string[] = [];
  let healedAt = 0;
  await Promise.all(
    nodes.map(async (node) => {
      const hostname = node.Description?.Hostname ?? node.ID;
      const [result] = await runNodeJob(
        docker,
        { nodeId: node.ID, node: hostname, image: jobImage, steps: [sweep] },
        context.job,
      ).catch((error: unknown) => {
        throw missingImageHint(image, error);
      });
      const nameOf = (containerId: string) => {
        const m = members.find((x) => x.task.containerId === containerId);
        return m ? `${m.name}@${hostname}` : `${containerId.slice(0, 12)}@${hostname}`;
      };
      healedAt = Math.max(healedAt, Date.parse(result?.removedAt ?? '') || 0);
      for (const r of result?.removed ?? []) removed.push(nameOf(r.labels[HELPER_LABEL.target] ?? r.id));
      for (const s of result?.swept ?? []) {
        if (s.exitCode !== 0) left.push(`${nameOf(s.target)}: ${s.stdout.replace(/\n/g, '; ')}`);
      }
    }),
  );
  if (removed.length > 0)
    context.progress(`removed ${removed.length} partition helper(s): ${removed.join(', ')}`);
  if (left.length > 0) {
    throw new EnclaveElectError(
      'E_UNPROVEN',
      `the helpers are gone, but rules are left in: ${left.join('; ')}`,
    );
  }
  // As on one host: a task that was cut off may have stale neighbour entries for a moment.
  const settleMs = context.settleMs ?? HEAL_SETTLE_MS;
  const prove = context.prove ?? proveSwarmReachability;
  const started = Date.now();
  let proof = await prove(docker, members, () => true, context.job);
  while (proof.unexpected.length > 0 && Date.now() - started < settleMs) {
    context.progress(`${proof.unexpected.length} of ${proof.checked} probes still fail; probing again`);
    await sleep(500);
    proof = await prove(docker, members, () => true, context.job);
  }
  if (proof.unexpected.length > 0) throw proofFailure('every partition helper is removed', proof);
  return { stack, removed, healedAt: healedAt || Date.now(), proof };
}
