// `enclave-elect local --peers N`: the whole system as processes on 127.0.0.1,
// no Docker needed; a live status table until Ctrl-C.
import type { CommandModule } from 'yargs';
import { DEFAULT_POLICY, POLICIES, type Policy } from '../../../crypto/leader-certificate.ts';
import { UsageError } from '../../../errors.ts';
import { runLocal } from './local.ts';

export interface LocalOptions {
  peers: number;
  policy: Policy;
  'lease-ms': number;
  dir: string | undefined;
  keep: boolean;
  duration: number;
  json: boolean;
}

const MAX_LOCAL_PEERS = 64;

export const localCommand: CommandModule<object, LocalOptions> = {
  command: 'local',
  // describe: in ../index.ts, so help lists every command without loading it.
  builder: (y) =>
    y
      .option('peers', { type: 'number', default: 5, describe: `Number of peers (1-${MAX_LOCAL_PEERS})` })
      .option('policy', { choices: POLICIES, default: DEFAULT_POLICY, describe: 'Leader-choice policy' })
      .option('lease-ms', { type: 'number', default: 2000, describe: 'Lease length in milliseconds' })
      .option('dir', {
        type: 'string',
        describe: 'Working directory for the PKI, enclave state and logs (kept); default a temporary one',
      })
      .option('keep', {
        type: 'boolean',
        default: false,
        describe: 'Keep the temporary directory (logs) after stopping',
      })
      .option('duration', {
        type: 'number',
        default: 0,
        describe: 'Stop by itself after this many seconds (0: run until Ctrl-C)',
      })
      .option('json', {
        type: 'boolean',
        default: false,
        describe: 'No live table; print one JSON status document when stopping',
      })
      .example('$0 local --peers 5', 'five peers and an enclave on 127.0.0.1; Ctrl-C stops them all'),
  handler: async (args) => {
    if (!Number.isInteger(args.peers) || args.peers < 1 || args.peers > MAX_LOCAL_PEERS) {
      throw new UsageError(`--peers must be a whole number from 1 to ${MAX_LOCAL_PEERS}, got ${args.peers}`);
    }
    if (!Number.isInteger(args['lease-ms']) || args['lease-ms'] < 100) {
      throw new UsageError(`--lease-ms must be a whole number of at least 100, got ${args['lease-ms']}`);
    }
    if (!Number.isFinite(args.duration) || args.duration < 0) {
      throw new UsageError(`--duration must be a number of seconds >= 0, got ${args.duration}`);
    }
    const interrupted = new Promise<void>((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
    });
    await runLocal({
      peers: args.peers,
      policy: args.policy,
      leaseMs: args['lease-ms'],
      ...(args.dir ? { dir: args.dir } : {}),
      keep: args.keep,
      durationMs: Math.round(args.duration * 1000),
      refreshMs: 500,
      json: args.json,
      out: process.stdout,
      err: process.stderr,
      interrupted,
    });
  },
};
