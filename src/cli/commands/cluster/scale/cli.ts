// `enclave-elect cluster scale N`: add or remove peers, then wait for agreement.
import type { CommandModule } from 'yargs';
import { scaleCluster } from '../../../../orchestrator/cluster-scale.ts';
import { statusReaderFor } from '../../../../orchestrator/status-reader.ts';
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
  selectorFrom,
  withJson,
  withSelector,
} from '../cluster-options.ts';
import { checkPeerCount } from '../up/cli.ts';

export interface ScaleOptions extends SelectorOptions, JsonOption {
  peers: number;
  'leader-last': boolean;
  timeout?: string;
  grace?: number;
}

export const scaleCommand: CommandModule<object, ScaleOptions> = {
  command: 'scale <peers>',
  describe: 'Add or remove peers (non-leaders go first), then wait for agreement',
  builder: (y) =>
    withJson(withSelector(y), 'the final status')
      .positional('peers', { type: 'number', demandOption: true, describe: 'Number of peers wanted' })
      .option('leader-last', {
        type: 'boolean',
        default: true,
        describe: 'Remove the leader only after every other peer (--no-leader-last: by number only)',
      })
      .option('timeout', {
        type: 'string',
        describe: 'Give up waiting for agreement after this long (default 60s)',
      })
      .option('grace', {
        type: 'number',
        describe: 'Seconds a removed peer gets to leave before SIGKILL (default 10)',
      }),
  handler: async (args) => {
    const selector = selectorFrom(args);
    const peers = checkPeerCount(args.peers, 'N');
    const timeoutMs = durationOption(args.timeout, '--timeout', 60_000);
    const docker = await dockerClient();
    const { signal, dispose } = interruptSignal();
    const report = await scaleCluster(
      docker,
      selector,
      {
        peers,
        leaderLast: args['leader-last'],
        timeoutMs,
        ...(args.grace === undefined ? {} : { graceSeconds: args.grace }),
      },
      { reader: statusReaderFor(docker), progress, signal },
    ).finally(dispose);
    if (args.json) printJson(report);
    else print(renderStatus(report.peers, Date.now()));
  },
};
