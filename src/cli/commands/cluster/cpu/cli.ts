// `enclave-elect cluster cpu PEER --share 5% [--for 10s]` and `--clear`: starve
// one container of CPU (its CFS quota; src/orchestrator/cpu-starvation.ts).
import type { CommandModule } from 'yargs';
import { UsageError } from '../../../../errors.ts';
import { starveCpu } from '../../../../orchestrator/cpu-starvation.ts';
import { parsePercent } from '../../../../orchestrator/net-fault-spec.ts';
import { statusReaderFor } from '../../../../orchestrator/status-reader.ts';
import {
  dockerClient,
  durationOption,
  interruptSignal,
  type JsonOption,
  print,
  printJson,
  progress,
  type SelectorOptions,
  selectorFrom,
  withJson,
  withSelector,
} from '../cluster-options.ts';

export interface CpuOptions extends SelectorOptions, JsonOption {
  target: string;
  share?: string;
  for?: string;
  clear: boolean;
}

export const cpuCommand: CommandModule<object, CpuOptions> = {
  command: 'cpu <target>',
  describe: 'Starve a peer of CPU (its cgroup CPU quota), so its timers fire late',
  builder: (y) =>
    withJson(withSelector(y), 'the result')
      .positional('target', {
        type: 'string',
        demandOption: true,
        describe: 'peer name, enclave, leader, or random',
      })
      .option('share', { type: 'string', describe: 'Share of one CPU it may use (5%)' })
      .option('for', { type: 'string', describe: 'Put the quota back after this long (10s)' })
      .option('clear', { type: 'boolean', default: false, describe: 'Remove the quota' })
      .example(
        '$0 cluster cpu leader --share 5% --for 10s',
        'the leader gets 5 ms of CPU per 100 ms for 10 s',
      ),
  handler: async (args) => {
    const selector = selectorFrom(args);
    if (args.clear === (args.share !== undefined)) {
      throw new UsageError('give --share (5%) to starve the peer, or --clear to remove the quota');
    }
    if (args.clear && args.for !== undefined) throw new UsageError('--for goes with --share, not --clear');
    const sharePercent = args.share === undefined ? null : parsePercent(args.share, '--share');
    const forMs = args.for === undefined ? undefined : durationOption(args.for, '--for', 0);
    const docker = await dockerClient();
    const { signal, dispose } = interruptSignal();
    try {
      const result = await starveCpu(
        docker,
        selector,
        { target: args.target, sharePercent, ...(forMs === undefined ? {} : { forMs }) },
        { reader: statusReaderFor(docker), progress, signal },
      );
      if (args.json) printJson(result);
      else
        print(
          `${result.target}: ${result.quotaUs === 0 ? 'no CPU quota' : `CPU quota ${result.quotaUs} µs per 100 ms`}${result.restored ? ', then put back' : ''}`,
        );
    } finally {
      dispose();
    }
  },
};
