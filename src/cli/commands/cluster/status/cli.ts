// `enclave-elect cluster status [--watch] [--json] [--status-via]`: every
// peer's view, read from its /status (over HTTP from this host, or inside the
// container by exec).
import { setTimeout as sleep } from 'node:timers/promises';
import type { CommandModule } from 'yargs';
import { UsageError } from '../../../../errors.ts';
import { statusReaderFor } from '../../../../orchestrator/status-reader.ts';
import { collectClusterView } from '../../../../orchestrator/status-report.ts';
import { renderStatus } from '../../../../orchestrator/status-table.ts';
import {
  dockerClient,
  durationOption,
  interruptSignal,
  type JsonOption,
  print,
  printJson,
  progress,
  type SelectorOptions,
  type StatusViaOption,
  selectorFrom,
  withJson,
  withSelector,
  withStatusVia,
} from '../cluster-options.ts';

export interface StatusOptions extends SelectorOptions, JsonOption, StatusViaOption {
  watch: boolean;
  interval?: string;
}

export const statusCommand: CommandModule<object, StatusOptions> = {
  command: 'status',
  describe: 'Show each peer: container state, members, leader, epoch, lease left, enclave trust, drops',
  builder: (y) =>
    withStatusVia(withJson(withSelector(y), 'the report'))
      .option('watch', { alias: 'w', type: 'boolean', default: false, describe: 'Redraw until Ctrl-C' })
      .option('interval', { type: 'string', describe: 'Time between redraws with --watch (default 1s)' }),
  handler: async (args) => {
    const selector = selectorFrom(args);
    const intervalMs = durationOption(args.interval, '--interval', 1000);
    if (args.watch && args.json)
      throw new UsageError('--json prints one document; it does not combine with --watch');
    const docker = await dockerClient();
    const reader = statusReaderFor(docker, args['status-via'], { note: progress });
    if (!args.watch) {
      const { report, others } = await collectClusterView(docker, selector, reader);
      if (args.json) printJson(report);
      else print(renderStatus(report.peers, Date.now(), others));
      return;
    }
    const { signal, dispose } = interruptSignal();
    try {
      while (!signal.aborted) {
        const { report, others } = await collectClusterView(docker, selector, reader);
        const clear = process.stdout.isTTY ? '\x1b[2J\x1b[H' : '';
        print(
          `${clear}${report.cluster} at ${new Date().toISOString()} (Ctrl-C to stop)\n${renderStatus(report.peers, Date.now(), others)}`,
        );
        await sleep(intervalMs, undefined, { signal }).catch(() => undefined);
      }
    } finally {
      dispose();
    }
  },
};
