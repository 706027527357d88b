// `enclave-elect cluster up`: a new cluster from the project image, waited on
// until every peer names the same verified leader.
import type { CommandModule } from 'yargs';
import { DEFAULT_POLICY, POLICIES, type Policy } from '../../../../crypto/leader-certificate.ts';
import { UsageError } from '../../../../errors.ts';
import { MAX_PEERS, upCluster } from '../../../../orchestrator/cluster-up.ts';
import { DEFAULT_IMAGE } from '../../../../orchestrator/project-image.ts';
import { statusReaderFor } from '../../../../orchestrator/status-reader.ts';
import { renderStatus } from '../../../../orchestrator/status-table.ts';
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
} from '../cluster-options.ts';

export interface UpOptions extends SelectorOptions, JsonOption {
  peers: number;
  build: boolean;
  image: string;
  policy: string;
  'lease-ms': number;
  demo: boolean;
  timeout?: string;
  label?: string[];
}

export function checkPeerCount(n: number, option: string): number {
  if (!Number.isInteger(n) || n < 1 || n > MAX_PEERS) {
    throw new UsageError(`${option} must be a whole number from 1 to ${MAX_PEERS}, got ${n}`);
  }
  return n;
}

export const upCommand: CommandModule<object, UpOptions> = {
  command: 'up',
  describe: 'Start a cluster (pki, enclave, N peers) and wait until all agree on a verified leader',
  builder: (y) =>
    withJson(y, 'the final status')
      .option('name', { type: 'string', describe: 'Cluster name (default: default)' })
      .option('peers', { alias: 'n', type: 'number', default: 5, describe: 'Number of peers' })
      .option('build', {
        type: 'boolean',
        default: false,
        describe: 'Build the image first (it is built anyway when missing)',
      })
      .option('image', { type: 'string', default: DEFAULT_IMAGE, describe: 'Project image to run' })
      .option('policy', {
        type: 'string',
        choices: [...POLICIES],
        default: DEFAULT_POLICY,
        describe: 'Leader-choice policy of the enclave',
      })
      .option('lease-ms', {
        type: 'number',
        default: 2000,
        describe: 'Lease the enclave grants, in milliseconds',
      })
      .option('demo', {
        type: 'boolean',
        default: false,
        describe:
          'Also run the fenced ledger; every peer runs the ledger writer while it leads (like compose --profile demo)',
      })
      .option('timeout', {
        type: 'string',
        describe: 'Give up waiting for agreement after this long (default 60s)',
      })
      .option('label', {
        type: 'string',
        array: true,
        describe: 'Extra label key=value on everything created',
      }),
  handler: async (args) => {
    const selector = selectorFrom(args);
    if (selector.kind !== 'name') throw new UsageError('up makes its own cluster; use --name');
    const peers = checkPeerCount(args.peers, '--peers');
    const leaseMs = args['lease-ms'];
    if (!Number.isInteger(leaseMs) || leaseMs < 100 || leaseMs > 600_000) {
      throw new UsageError(`--lease-ms must be a whole number from 100 to 600000, got ${leaseMs}`);
    }
    const timeoutMs = durationOption(args.timeout, '--timeout', 60_000);
    const labels = extraLabels(args.label);
    const docker = await dockerClient();
    const { signal, dispose } = interruptSignal();
    const report = await upCluster(
      docker,
      {
        cluster: selector.name,
        image: args.image,
        policy: args.policy as Policy,
        leaseMs,
        ...(args.demo ? { demo: true } : {}),
        extraLabels: labels,
        peers,
        build: args.build,
        timeoutMs,
      },
      { reader: statusReaderFor(docker), progress, signal },
    ).finally(dispose);
    if (args.json) printJson(report);
    else print(renderStatus(report.peers, Date.now()));
  },
};
