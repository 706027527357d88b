// Partitions that are not clean cuts, made by cutting single links: one-way
// (B stops hearing A while A still hears B), a majorities ring (every peer
// hears a majority, no two the same one) and a bridge (two halves that hear
// each other only through one peer). Nobody moves network: each container that
// must stop hearing others gets a fault helper (kind `cut`) that drops their
// packets on its INPUT chain. The plans here are pure; applying proves the cut
// with TCP probes, which need both directions, so a one-way cut shows as a
// failed probe both ways between the pair and every other pair stays open.
import { EnclaveElectError, UsageError } from '../errors.ts';
import { type ClusterContainer, compareNames, peersOf, requireCluster } from './cluster-inventory.ts';
import type { DockerClient } from './docker-client.ts';
import { ensureHelperImage, runHelper, startHelper, stopHelpers } from './fault-helper.ts';
import type { ClusterSelector } from './labels.ts';
import { helperArgs } from './net-fault-spec.ts';
import { type Prover, proveReachability, type ReachabilityProof } from './partition.ts';
import type { ImageBuilder } from './project-image.ts';

export const CUT_MODES = ['one-way', 'ring', 'bridge'] as const;
export type CutMode = (typeof CUT_MODES)[number];

export interface LinkCutPlan {
  mode: CutMode;
  /** Every container the plan is about; the others (the enclave, unless named) hear everyone. */
  members: ClusterContainer[];
  /** Container id -> ids of the containers whose packets it drops. */
  deafTo: Map<string, Set<string>>;
  /** For people: "peer-1 -> peer-2 cut", "ring peer-1 .. peer-5". */
  summary: string;
}

function cut(plan: LinkCutPlan, listener: ClusterContainer, speaker: ClusterContainer) {
  if (listener.id === speaker.id) return;
  const set = plan.deafTo.get(listener.id) ?? new Set<string>();
  set.add(speaker.id);
  plan.deafTo.set(listener.id, set);
}

/** Whether `listener` receives what `speaker` sends under the plan. */
export function hears(plan: LinkCutPlan, listener: ClusterContainer, speaker: ClusterContainer): boolean {
  return !(plan.deafTo.get(listener.id)?.has(speaker.id) ?? false);
}

/** `from`'s packets no longer reach `to`; `to`'s still reach `from`. */
export function oneWayPlan(from: ClusterContainer[], to: ClusterContainer[]): LinkCutPlan {
  const overlap = from.filter((f) => to.some((t) => t.id === f.id));
  if (from.length === 0 || to.length === 0 || overlap.length > 0) {
    throw new UsageError(
      `one-way needs two disjoint non-empty groups FROM/TO${overlap.length > 0 ? ` (${overlap.map((c) => c.name).join(', ')} in both)` : ''} (example: partition one-way peer-1/peer-2,peer-3)`,
    );
  }
  const plan: LinkCutPlan = {
    mode: 'one-way',
    members: [...from, ...to],
    deafTo: new Map(),
    summary: `${from.map((c) => c.name).join(',')} -> ${to.map((c) => c.name).join(',')} cut (the other way open)`,
  };
  for (const listener of to) for (const speaker of from) cut(plan, listener, speaker);
  return plan;
}

/** How far round the ring each peer hears, so that it hears a majority of n (itself included). */
export function ringReach(n: number): number {
  return Math.ceil(Math.floor(n / 2) / 2);
}

/**
 * Majorities ring (Jepsen's nemesis): peers in ring order, each hears the ones
 * within `ringReach(n)` steps either way: a majority, and a different one for each.
 */
export function ringPlan(peers: ClusterContainer[]): LinkCutPlan {
  const n = peers.length;
  if (n < 4) {
    throw new UsageError(`a majorities ring needs at least 4 peers (with ${n}, every majority is everyone)`);
  }
  const reach = ringReach(n);
  const plan: LinkCutPlan = {
    mode: 'ring',
    members: peers,
    deafTo: new Map(),
    summary: `ring ${peers.map((p) => p.name).join(' - ')} (each hears ${2 * reach} neighbours)`,
  };
  for (const [i, listener] of peers.entries()) {
    for (const [j, speaker] of peers.entries()) {
      const distance = Math.min(Math.abs(i - j), n - Math.abs(i - j));
      if (distance > reach) cut(plan, listener, speaker);
    }
  }
  return plan;
}

/** Two halves of the other peers (name order) that reach each other only through `bridge`. */
export function bridgePlan(peers: ClusterContainer[], bridge: ClusterContainer): LinkCutPlan {
  const rest = peers.filter((p) => p.id !== bridge.id).sort((a, b) => compareNames(a.name, b.name));
  if (rest.length < 2 || rest.length === peers.length) {
    throw new UsageError('a bridge needs a peer of the cluster as the bridge and at least 2 others');
  }
  const half = Math.ceil(rest.length / 2);
  const [a, b] = [rest.slice(0, half), rest.slice(half)];
  const plan: LinkCutPlan = {
    mode: 'bridge',
    members: peers,
    deafTo: new Map(),
    summary: `${a.map((p) => p.name).join(',')} | ${bridge.name} | ${b.map((p) => p.name).join(',')}`,
  };
  for (const x of a) {
    for (const y of b) {
      cut(plan, x, y);
      cut(plan, y, x);
    }
  }
  return plan;
}

/** Plan for the peers of a cluster in name order (ring), or around a named bridge peer. */
export function planCuts(
  mode: CutMode,
  containers: ClusterContainer[],
  groups: { from?: ClusterContainer[]; to?: ClusterContainer[]; bridge?: ClusterContainer },
): LinkCutPlan {
  const peers = peersOf(containers);
  if (mode === 'one-way') return oneWayPlan(groups.from ?? [], groups.to ?? []);
  if (mode === 'ring') return ringPlan(peers);
  if (groups.bridge === undefined)
    throw new UsageError('bridge needs the bridging peer (example: partition bridge peer-3)');
  return bridgePlan(peers, groups.bridge);
}

export interface LinkCutResult {
  mode: CutMode;
  summary: string;
  cuts: { peer: string; deafTo: string[] }[];
  proof: ReachabilityProof;
}

export interface LinkCutContext {
  progress: (line: string) => void;
  extraLabels?: Record<string, string>;
  builder?: ImageBuilder;
  prove?: Prover;
}

type Docker = Pick<DockerClient, 'getImage' | 'createContainer' | 'getContainer' | 'listContainers'>;

function addressesOfContainer(c: ClusterContainer): string[] {
  return Object.values(c.addresses ?? {});
}

export async function applyLinkCuts(
  docker: Docker,
  selector: ClusterSelector,
  plan: LinkCutPlan,
  context: LinkCutContext,
): Promise<LinkCutResult> {
  const containers = await requireCluster(docker, selector);
  const byId = new Map(containers.map((c) => [c.id, c]));
  const image = await ensureHelperImage(docker, context.progress, context.builder);
  const cuts: LinkCutResult['cuts'] = [];
  for (const [listenerId, speakers] of plan.deafTo) {
    const listener = byId.get(listenerId)!;
    const deafTo = [...speakers].map((id) => byId.get(id)!);
    const dropFrom = deafTo.flatMap(addressesOfContainer);
    await stopHelpers(docker, listener.id, 'cut');
    if (listener.state !== 'running' || dropFrom.length === 0) continue;
    await startHelper(docker, {
      image,
      target: listener.id,
      cmd: ['apply', ...helperArgs({ dropFrom })],
      kind: 'cut',
      describe: `${plan.mode}: deaf to ${deafTo.map((c) => c.name).join(', ')}`,
      labels: context.extraLabels ?? {},
      autoRemove: false,
    });
    cuts.push({ peer: listener.name, deafTo: deafTo.map((c) => c.name) });
    context.progress(`${listener.name} no longer hears ${deafTo.map((c) => c.name).join(', ')}`);
  }
  const everyone = containers.filter((c) => c.role === 'peer' || c.role === 'enclave');
  const proof = await (context.prove ?? proveReachability)(
    docker,
    everyone,
    (a, b) => hears(plan, a, b) && hears(plan, b, a),
  );
  if (proof.unexpected.length > 0) {
    throw new EnclaveElectError(
      'E_UNPROVEN',
      `the ${plan.mode} cuts are in place, but ${proof.unexpected.length} of ${proof.checked} probes disagree: ${proof.unexpected
        .slice(0, 10)
        .map((u) => `${u.from} -> ${u.to}: ${u.outcome}, expected ${u.expected ? 'reachable' : 'dropped'}`)
        .join('; ')}`,
    );
  }
  return { mode: plan.mode, summary: plan.summary, cuts, proof };
}

/** Remove every link cut of the cluster: stop the helpers, sweep what a killed one left. */
export async function clearLinkCuts(
  docker: Docker,
  selector: ClusterSelector,
  context: LinkCutContext,
): Promise<string[]> {
  const containers = await requireCluster(docker, selector);
  const removed: string[] = [];
  let image: string | undefined;
  for (const c of containers.filter((c) => c.role === 'peer' || c.role === 'enclave')) {
    const helpers = await stopHelpers(docker, c.id, 'cut');
    removed.push(...helpers);
    if (helpers.length === 0 || c.state !== 'running') continue;
    image ??= await ensureHelperImage(docker, context.progress, context.builder);
    const swept = await runHelper(docker, {
      image,
      target: c.id,
      cmd: ['clear'],
      kind: 'cut',
      describe: 'clear',
      labels: context.extraLabels ?? {},
    });
    if (swept.exitCode !== 0) {
      throw new EnclaveElectError('E_UNPROVEN', `link cuts of ${c.name} not cleared: ${swept.stdout.trim()}`);
    }
  }
  if (removed.length > 0) context.progress(`removed ${removed.length} link-cut helper(s)`);
  return removed;
}
