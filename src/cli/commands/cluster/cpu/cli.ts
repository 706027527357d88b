// `enclave-elect cluster cpu PEER --share 5% [--for 10s]` and `--clear`: starve
// one container of CPU (its CFS quota; src/orchestrator/cpu-starvation.ts).
// `cluster cpu --host --workers 2 [--for 10s]` and `--host --clear`: a CPU hog
// on the whole host (src/orchestrator/host-cpu-hog.ts).
import type { CommandModule } from 'yargs';
import { UsageError } from '../../../../errors.ts';
import { starveCpu } from '../../../../orchestrator/cpu-starvation.ts';
import { hogHost, stopHostHogs } from '../../../../orchestrator/host-cpu-hog.ts';
import { parsePercent } from '../../../../orchestrator/net-fault-spec.ts';
import { statusReaderFor } from '../../../../orchestrator/status-reader.ts';
import {
  dockerClient,
  durationOption,
  extraLabels,
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
  target?: string;
  host: boolean;
  workers?: number;
  share?: string;
  for?: string;
  clear: boolean;
}

export const cpuCommand: CommandModule<object, CpuOptions> = {
  command: 'cpu [target]',
  describe:
    'Starve a peer of CPU (its cgroup CPU quota), or load the whole host (--host), so timers fire late',
  builder: (y) =>
    withJson(withSelector(y), 'the result')
      .positional('target', {
        type: 'string',
        describe: 'peer name, enclave, leader, or random (not with --host)',
      })
      .option('host', {
        type: 'boolean',
        default: false,
        describe:
          'A CPU hog on the whole host (stress-ng in a helper, at most 3/4 of the CPUs) instead of one peer',
      })
      .option('workers', { type: 'number', describe: 'With --host: busy workers (2)' })
      .option('share', { type: 'string', describe: 'Share of one CPU it may use (5%)' })
      .option('for', { type: 'string', describe: 'Put the quota back after this long (10s)' })
      .option('clear', { type: 'boolean', default: false, describe: 'Remove the quota' })
      .example(
        '$0 cluster cpu leader --share 5% --for 10s',
        'the leader gets 5 ms of CPU per 100 ms for 10 s',
      )
      .example('$0 cluster cpu --host --workers 2 --for 30s', 'two busy loops on the host for 30 s'),
  handler: async (args) => {
    const selector = selectorFrom(args);
    if (args.host) return hostHog(args, selector);
    if (args.target === undefined)
      throw new UsageError('name a target peer, or give --host for the whole host');
    if (args.workers !== undefined) throw new UsageError('--workers goes with --host');
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
        { target: args.target!, sharePercent, ...(forMs === undefined ? {} : { forMs }) },
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

async function hostHog(args: CpuOptions, selector: ReturnType<typeof selectorFrom>): Promise<void> {
  if (args.target !== undefined) throw new UsageError('--host loads the whole host: give no target');
  if (args.share !== undefined) throw new UsageError('--share is for one peer; with --host give --workers');
  if (args.clear === (args.workers !== undefined)) {
    throw new UsageError('give --workers (2) to start the host CPU hog, or --clear to remove it');
  }
  if (args.clear && args.for !== undefined) throw new UsageError('--for goes with --workers, not --clear');
  const forMs = args.for === undefined ? undefined : durationOption(args.for, '--for', 0);
  const docker = await dockerClient();
  if (args.clear) {
    const removed = await stopHostHogs(docker, selector);
    if (args.json) printJson({ removed });
    else print(removed.length ? `removed ${removed.join(', ')}` : 'no host CPU hog was running');
    return;
  }
  const { signal, dispose } = interruptSignal();
  try {
    const result = await hogHost(
      docker,
      selector,
      { workers: args.workers!, ...(forMs === undefined ? {} : { forMs }) },
      { progress, extraLabels: extraLabels(undefined), signal },
    );
    if (args.json) printJson(result);
    else
      print(
        `host: ${result.workers} busy worker(s) within ${result.cpus} of ${result.hostCpus} CPUs${result.removed ? ', then removed' : ' (remove with --host --clear)'}`,
      );
  } finally {
    dispose();
  }
}
