// `enclave-elect cluster partition GROUPS` and `partition isolate PEER`: a
// kernel-level partition (separate project networks), proved by probes.
import type { CommandModule } from 'yargs';
import { requireCluster } from '../../../../orchestrator/cluster-inventory.ts';
import { type PartitionResult, partitionCluster } from '../../../../orchestrator/partition.ts';
import { parsePartitionArgs, planPartition } from '../../../../orchestrator/partition-plan.ts';
import { statusReaderFor } from '../../../../orchestrator/status-reader.ts';
import {
  dockerClient,
  extraLabels,
  type JsonOption,
  print,
  printJson,
  progress,
  type SelectorOptions,
  selectorFrom,
  withJson,
  withSelector,
} from '../cluster-options.ts';

export interface PartitionOptions extends SelectorOptions, JsonOption {
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
          "groups separated by '/', peers by ',' (peer-1,peer-2/peer-3,peer-4,peer-5), or: isolate PEER[,PEER]",
      })
      .option('enclave-side', {
        type: 'string',
        describe: 'Side(s) the enclave stays reachable from: A, B, ... or both (default: A; with isolate, B)',
      })
      .option('label', {
        type: 'string',
        array: true,
        describe: 'Extra label key=value on the side networks',
      })
      .example('$0 cluster partition peer-1,peer-2,peer-3/peer-4,peer-5', '3|2, the enclave with the three')
      .example('$0 cluster partition isolate leader --enclave-side B', 'cut the leader off with no enclave'),
  handler: async (args) => {
    const selector = selectorFrom(args);
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
