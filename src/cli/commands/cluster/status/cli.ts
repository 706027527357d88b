// `enclave-elect cluster status [--watch] [--json] [--status-via] [--swarm STACK]`:
// every peer's view, read from its /status (over HTTP from this host, or inside
// the container by exec; for a swarm stack, through its overlay network).
import { setTimeout as sleep } from 'node:timers/promises';
import type { CommandModule } from 'yargs';
import { UsageError } from '../../../../errors.ts';
import type { DockerClient } from '../../../../orchestrator/docker-client.ts';
import type { StatusReader } from '../../../../orchestrator/peer-status.ts';
import { statusReaderFor } from '../../../../orchestrator/status-reader.ts';
import { collectClusterView } from '../../../../orchestrator/status-report.ts';
import { renderStatus } from '../../../../orchestrator/status-table.ts';
import { collectSwarmView } from '../../../../orchestrator/swarm-status.ts';
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
  stackFrom,
  withJson,
  withSelector,
  withStatusVia,
} from '../cluster-options.ts';

export interface StatusOptions extends SelectorOptions, JsonOption, StatusViaOption {
  watch: boolean;
  interval?: string;
  swarm?: string;
}

export const statusCommand: CommandModule<object, StatusOptions> = {
  command: 'status',
  describe: 'Show each peer: container state, members, leader, epoch, lease left, enclave trust, drops',
  builder: (y) =>
    withStatusVia(withJson(withSelector(y), 'the report'))
      .option('watch', { alias: 'w', type: 'boolean', default: false, describe: 'Redraw until Ctrl-C' })
      .option('interval', { type: 'string', describe: 'Time between redraws with --watch (default 1s)' })
      .option('swarm', {
        type: 'string',
        describe:
          "A stack deployed from deploy/swarm/stack.yml instead, on the swarm whose manager DOCKER_HOST names: peers are read on every node, through the stack's attachable network",
      }),
  handler: async (args) => {
    const intervalMs = durationOption(args.interval, '--interval', 1000);
    if (args.watch && args.json)
      throw new UsageError('--json prints one document; it does not combine with --watch');
    const view = viewFor(args);
    if (!args.watch) {
      const { report, others } = await view();
      if (args.json) printJson(report);
      else print(renderStatus(report.peers, Date.now(), others));
      return;
    }
    const { signal, dispose } = interruptSignal();
    try {
      while (!signal.aborted) {
        const { report, others } = await view();
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

/** How this run reads the cluster: a stack across a swarm, or containers on one engine. */
function viewFor(args: StatusOptions) {
  const { swarm } = args;
  let connected: Promise<DockerClient> | undefined;
  const docker = () => {
    connected ??= dockerClient();
    return connected;
  };
  if (swarm !== undefined) {
    const stack = stackFrom(args);
    if (args['status-via'] !== 'auto') {
      throw new UsageError("--swarm reads peers through the stack's network; --status-via does not apply");
    }
    return async () => collectSwarmView(await docker(), stack);
  }
  const selector = selectorFrom(args);
  let reader: StatusReader | undefined;
  return async () => {
    const engine = await docker();
    reader ??= statusReaderFor(engine, args['status-via'], { note: progress });
    return collectClusterView(engine, selector, reader);
  };
}
