// `enclave-elect cluster heal`: link cuts removed, every container back on the
// main network, the side networks removed, full connectivity proved by probes.
// With `--swarm STACK`: the stack's partition helpers removed on every node.
import type { CommandModule } from 'yargs';
import { clearLinkCuts } from '../../../../orchestrator/link-cuts.ts';
import { healCluster } from '../../../../orchestrator/partition.ts';
import { healSwarm } from '../../../../orchestrator/swarm-partition.ts';
import {
  dockerClient,
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

export type HealOptions = SelectorOptions & JsonOption & SwarmOption;

export const healCommand: CommandModule<object, HealOptions> = {
  command: 'heal',
  describe: 'Undo a partition: everyone back on the main network, then prove each reaches each',
  builder: (y) =>
    withJson(withSelector(y), 'the result').option('swarm', {
      type: 'string',
      describe:
        'A swarm stack instead (DOCKER_HOST names a manager): remove its partition helpers on every node, check no rule is left, prove each task reaches each',
    }),
  handler: async (args) => {
    if (args.swarm !== undefined) {
      const result = await healSwarm(await dockerClient(), stackFrom(args), { progress });
      if (args.json) printJson(result);
      else
        print(
          [
            result.removed.length > 0
              ? `removed the partition helpers of ${result.removed.join(', ')}; no rule left`
              : 'no partition to heal',
            `proved by ${result.proof.checked} probes: every running task reaches every other${result.proof.skipped.length > 0 ? ` (not probed: ${result.proof.skipped.join(', ')})` : ''}`,
          ].join('\n'),
        );
      return;
    }
    const selector = selectorFrom(args);
    const docker = await dockerClient();
    // Cuts first: the heal's proof then covers them too.
    const cutHelpers = await clearLinkCuts(docker, selector, { progress });
    const result = { ...(await healCluster(docker, selector, { progress })), cutHelpers };
    if (args.json) {
      printJson(result);
      return;
    }
    const skipped =
      result.proof.skipped.length > 0 ? ` (not probed: ${result.proof.skipped.join(', ')})` : '';
    print(
      [
        result.moved.length > 0
          ? `moved back to ${result.mainNetwork}: ${result.moved.join(', ')}`
          : cutHelpers.length > 0
            ? `removed the link cuts (${cutHelpers.length} helper(s))`
            : 'no partition to heal',
        ...(result.removedNetworks.length > 0 ? [`removed ${result.removedNetworks.join(', ')}`] : []),
        ...result.readdressed.map(
          (r) =>
            `warning: ${r.name} came back at ${r.now}, not ${r.was} (the network has no user-set subnet); peers that chose their own address re-announce it (self.readdressed); one started with --advertise-address or a specific --bind-address needs a restart`,
        ),
        `proved by ${result.proof.checked} probes: every running container reaches every other over ${result.mainNetwork}${skipped}`,
      ].join('\n'),
    );
  },
};
