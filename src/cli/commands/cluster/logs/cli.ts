// `enclave-elect cluster logs [PEER] [--follow] [--since] [--event NAME]`.
import type { CommandModule } from 'yargs';
import { clusterLogs, parseSince } from '../../../../orchestrator/cluster-logs.ts';
import { statusReaderFor } from '../../../../orchestrator/status-reader.ts';
import {
  dockerClient,
  interruptSignal,
  type SelectorOptions,
  selectorFrom,
  withSelector,
} from '../cluster-options.ts';

export interface LogsOptions extends SelectorOptions {
  peer?: string;
  follow: boolean;
  since?: string;
  event?: string[];
  tail?: number;
}

export const logsCommand: CommandModule<object, LogsOptions> = {
  command: 'logs [peer]',
  describe: "The containers' log lines merged, prefixed by peer, optionally only some events",
  builder: (y) =>
    withSelector(y)
      .positional('peer', {
        type: 'string',
        describe: 'One peer, container, enclave or leader (default: all)',
      })
      .option('follow', {
        alias: 'f',
        type: 'boolean',
        default: false,
        describe: 'Keep printing new lines until Ctrl-C',
      })
      .option('since', {
        type: 'string',
        describe: 'Only lines since: a duration back (30s, 5m), an ISO time, unix seconds',
      })
      .option('event', {
        alias: 'e',
        type: 'string',
        array: true,
        describe:
          'Only pino lines whose `event` matches (leader.acquired, leader.*; repeat or comma-separate)',
      })
      .option('tail', { type: 'number', describe: 'Only the last N lines of each container' }),
  handler: async (args) => {
    const selector = selectorFrom(args);
    const since = args.since === undefined ? undefined : parseSince(args.since);
    const docker = await dockerClient();
    const { signal, dispose } = interruptSignal();
    try {
      await clusterLogs(docker, selector, {
        follow: args.follow,
        ...(args.peer === undefined ? {} : { target: args.peer }),
        ...(since === undefined ? {} : { since }),
        ...(args.event === undefined ? {} : { events: args.event }),
        ...(args.tail === undefined ? {} : { tail: args.tail }),
        write: (line) => process.stdout.write(`${line}\n`),
        signal,
        reader: statusReaderFor(docker),
      });
    } finally {
      dispose();
    }
  },
};
