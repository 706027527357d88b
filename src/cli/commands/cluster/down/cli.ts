// `enclave-elect cluster down`: remove everything with the cluster's labels.
import type { CommandModule } from 'yargs';
import { EnclaveElectError } from '../../../../errors.ts';
import { downCluster } from '../../../../orchestrator/teardown.ts';
import {
  dockerClient,
  type JsonOption,
  print,
  printJson,
  progress,
  type SelectorOptions,
  selectorFrom,
  withJson,
  withSelector,
} from '../cluster-options.ts';

export type DownOptions = SelectorOptions & JsonOption;

function count(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? '' : 's'}`;
}

export const downCommand: CommandModule<object, DownOptions> = {
  command: 'down',
  describe: 'Remove every container, network and volume of a cluster made by `cluster up`',
  builder: (y) => withJson(withSelector(y), 'what was removed'),
  handler: async (args) => {
    const selector = selectorFrom(args);
    if (selector.kind === 'project') {
      throw new EnclaveElectError(
        'E_UNSUPPORTED',
        `down removes clusters made by \`cluster up\`; compose project '${selector.project}' comes down with compose: docker compose -p ${selector.project} down -v (run \`cluster heal --project ${selector.project}\` first if it is partitioned)`,
      );
    }
    const docker = await dockerClient();
    const result = await downCluster(docker, selector.name, progress);
    if (args.json) {
      printJson(result);
      return;
    }
    const total = result.containers.length + result.networks.length + result.volumes.length;
    print(
      total === 0
        ? `nothing to remove: no container, network or volume has the label of cluster '${selector.name}'`
        : `removed ${count(result.containers.length, 'container')}, ${count(result.networks.length, 'network')}, ${count(result.volumes.length, 'volume')} of cluster '${selector.name}'`,
    );
  },
};
