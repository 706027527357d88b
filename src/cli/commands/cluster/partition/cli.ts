// `enclave-elect cluster partition GROUPS` and `partition isolate PEER`: a
// kernel-level partition (separate project networks), proved by probes; and
// `partition one-way FROM/TO`, `partition ring`, `partition bridge PEER`:
// partitions that are not clean cuts, made by dropping single links. With
// `--swarm STACK`, the clean cuts act on a stack's tasks across a swarm.
import type { CommandModule } from 'yargs';
import { UsageError } from '../../../../errors.ts';
import { type ClusterContainer, requireCluster } from '../../../../orchestrator/cluster-inventory.ts';
import {
  applyLinkCuts,
  CUT_MODES,
  type CutMode,
  type LinkCutResult,
  planCuts,
} from '../../../../orchestrator/link-cuts.ts';
import { type PartitionResult, partitionCluster } from '../../../../orchestrator/partition.ts';
import { parsePartitionArgs, planPartition } from '../../../../orchestrator/partition-plan.ts';
import type { StatusReader } from '../../../../orchestrator/peer-status.ts';
import { statusReaderFor } from '../../../../orchestrator/status-reader.ts';
import { partitionSwarm, type SwarmPartitionResult } from '../../../../orchestrator/swarm-partition.ts';
import { planSwarmPartition } from '../../../../orchestrator/swarm-partition-plan.ts';
import { readStack } from '../../../../orchestrator/swarm-status.ts';
import { resolveTarget } from '../../../../orchestrator/targets.ts';
import {
  dockerClient,
  extraLabels,
  type JsonOption,
  print,
  printJson,
  progress,
  type SelectorOptions,
  type SwarmOption,
  selectorFrom,
  stackFrom,
  withJson,
  withSelector,
} from '../cluster-options.ts';

export interface PartitionOptions extends SelectorOptions, JsonOption, SwarmOption {
  groups: string[];
  'enclave-side'?: string;
  label?: string[];
}

export function describePartition(result: PartitionResult): string {
  const sides = result.sides.map(
    (s) => `side ${s.side} (${s.network}): ${s.peers.join(', ')}${s.enclave ? ' + enclave' : ''}`,
  );
  const skipped = result.proof.skipped.length > 0 ? `; not probed: ${result.proof.skipped.join(', ')}` : '';
  return [
    ...sides,
    `proved by ${result.proof.checked} probes: reachable within a side, dropped across sides${skipped}`,
    `\`enclave-elect cluster heal\` restores ${result.mainNetwork}`,
  ].join('\n');
}

export function describeSwarmPartition(result: SwarmPartitionResult): string {
  const skipped = result.proof.skipped.length > 0 ? `; not probed: ${result.proof.skipped.join(', ')}` : '';
  return [
    ...result.sides.map((s) => `side ${s.side}: ${s.peers.join(', ')}${s.enclave ? ' + enclave' : ''}`),
    ...result.cuts.map((c) => `  ${c.peer} (${c.task}) drops ${c.deafTo.join(', ')}`),
    `proved by ${result.proof.checked} probes from inside the tasks: reachable within a side, dropped across sides${skipped}`,
    `\`enclave-elect cluster heal --swarm ${result.stack}\` removes the cuts`,
  ].join('\n');
}

/** `partition GROUPS --swarm STACK`: the clean forms only, on the stack's tasks. */
async function partitionOnSwarm(args: PartitionOptions): Promise<void> {
  const stack = stackFrom(args);
  const mode = CUT_MODES.find((m) => m === args.groups[0]);
  if (mode !== undefined) {
    throw new UsageError(
      `--swarm takes the clean forms (GROUPS a,b/c,d,e or isolate PEER); ${mode} is for clusters on one engine`,
    );
  }
  const spec = parsePartitionArgs(args.groups);
  const docker = await dockerClient();
  const { tasks, reports } = await readStack(docker, stack);
  const plan = planSwarmPartition(tasks, reports, spec, args['enclave-side']);
  const result = await partitionSwarm(docker, stack, plan, {
    progress,
    extraLabels: extraLabels(args.label),
  });
  if (args.json) printJson(result);
  else print(describeSwarmPartition(result));
}

export function describeLinkCuts(result: LinkCutResult): string {
  return [
    `${result.mode}: ${result.summary}`,
    ...result.cuts.map((c) => `  ${c.peer} does not hear ${c.deafTo.join(', ')}`),
    `proved by ${result.proof.checked} probes (a TCP probe needs both directions: a cut link fails both ways)`,
    '`enclave-elect cluster heal` removes the cuts',
  ].join('\n');
}

async function resolveGroup(containers: ClusterContainer[], text: string, reader: StatusReader) {
  const names = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return Promise.all(
    names.map(async (name) => (await resolveTarget(containers, name, { reader })).container),
  );
}

/** `one-way FROM/TO`, `ring`, `bridge PEER`: the words after the mode, resolved to containers. */
async function linkCutGroups(
  mode: CutMode,
  words: string[],
  containers: ClusterContainer[],
  reader: StatusReader,
) {
  const rest = words.join(',');
  if (mode === 'one-way') {
    const [from, to, ...extra] = rest.replace(/,?\/,?/g, '/').split('/');
    if (from === undefined || to === undefined || extra.length > 0) {
      throw new UsageError('one-way needs FROM/TO (example: partition one-way peer-1/peer-2,peer-3)');
    }
    return {
      from: await resolveGroup(containers, from, reader),
      to: await resolveGroup(containers, to, reader),
    };
  }
  if (mode === 'bridge') {
    const [bridge, ...extra] = await resolveGroup(containers, rest, reader);
    if (bridge === undefined || extra.length > 0) {
      throw new UsageError('bridge needs exactly one bridging peer (example: partition bridge peer-3)');
    }
    return { bridge };
  }
  if (rest !== '') throw new UsageError('ring takes no names: it rings every peer, in name order');
  return {};
}

export const partitionCommand: CommandModule<object, PartitionOptions> = {
  command: 'partition <groups..>',
  describe: 'Cut the network between groups of peers (a,b/c,d,e or `isolate PEER`), in the kernel',
  builder: (y) =>
    withJson(withSelector(y), 'the partition')
      .positional('groups', {
        type: 'string',
        array: true,
        demandOption: true,
        describe:
          "groups separated by '/', peers by ',' (peer-1,peer-2/peer-3,peer-4,peer-5), or: isolate PEER[,PEER], one-way FROM/TO, ring, bridge PEER",
      })
      .option('enclave-side', {
        type: 'string',
        describe: 'Side(s) the enclave stays reachable from: A, B, ... or both (default: A; with isolate, B)',
      })
      .option('label', {
        type: 'string',
        array: true,
        describe: 'Extra label key=value on the side networks (with --swarm: on the helpers)',
      })
      .option('swarm', {
        type: 'string',
        describe:
          "A swarm stack's tasks instead (DOCKER_HOST names a manager): GROUPS and isolate only, as iptables drops in each task's network namespace; the fault helper image must be on every node",
      })
      .example('$0 cluster partition peer-1,peer-2,peer-3/peer-4,peer-5', '3|2, the enclave with the three')
      .example('$0 cluster partition isolate leader --enclave-side B', 'cut the leader off with no enclave')
      .example(
        '$0 cluster partition one-way leader/peer-2',
        'peer-2 stops hearing the leader, which still hears it',
      )
      .example('$0 cluster partition ring', 'every peer hears a majority, no two the same one')
      .example('$0 cluster partition bridge peer-3', 'two halves joined only by peer-3')
      .example('$0 cluster partition isolate leader --swarm ee', "cut a swarm stack's leader off"),
  handler: async (args) => {
    if (args.swarm !== undefined) {
      await partitionOnSwarm(args);
      return;
    }
    const selector = selectorFrom(args);
    const mode = CUT_MODES.find((m) => m === args.groups[0]);
    if (mode !== undefined) {
      if (args['enclave-side'] !== undefined) {
        throw new UsageError(`--enclave-side is for clean cuts; in ${mode} every peer keeps the enclave`);
      }
      const docker = await dockerClient();
      const containers = await requireCluster(docker, selector);
      const groups = await linkCutGroups(mode, args.groups.slice(1), containers, statusReaderFor(docker));
      const result = await applyLinkCuts(docker, selector, planCuts(mode, containers, groups), {
        progress,
        extraLabels: extraLabels(args.label),
      });
      if (args.json) printJson(result);
      else print(describeLinkCuts(result));
      return;
    }
    const spec = parsePartitionArgs(args.groups);
    const labels = extraLabels(args.label);
    const docker = await dockerClient();
    const reader = statusReaderFor(docker);
    const plan = await planPartition(
      await requireCluster(docker, selector),
      spec,
      args['enclave-side'],
      reader,
    );
    const result = await partitionCluster(docker, selector, plan, { progress, extraLabels: labels });
    if (args.json) printJson(result);
    else print(describePartition(result));
  },
};
