// `enclave-elect token verify TOKEN`: check a fencing token offline against
// the pinned root and checksum, as a resource server would. Exit 0 valid,
// 1 refused (the reason on stderr, or in the --json document), 2 usage.

import type { Argv, CommandModule } from 'yargs';
import { resolvePinnedChecksum } from '../../../enclave/client/pinned-checksum.ts';
import { UsageError } from '../../../errors.ts';
import { readFileSync } from '../../../platform/node-fs.ts';
import { outcomeJson, outcomeText, runTokenVerify } from './token-verify.ts';

export interface TokenVerifyOptions {
  token: string;
  root: string;
  checksum: string;
  cluster: string;
  'min-epoch': number | undefined;
  'min-seq': number | undefined;
  json: boolean;
}

const CLUSTER_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

function count(value: number | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isSafeInteger(value) || value < 0)
    throw new UsageError(`${flag} must be a non-negative integer`);
  return value;
}

const verifyCommand: CommandModule<object, TokenVerifyOptions> = {
  command: 'verify <token>',
  describe: 'Verify a fencing token offline with the pinned root and function checksum',
  builder: (y) =>
    y
      .positional('token', {
        type: 'string',
        demandOption: true,
        describe: "The token (<certificate>~<attestation>), or '-' to read it from stdin",
      })
      .option('root', {
        type: 'string',
        default: process.env.PKI_ROOT ?? '',
        defaultDescription: '$PKI_ROOT',
        describe: 'Pinned attestation root certificate (PEM)',
      })
      .option('checksum', {
        type: 'string',
        default: process.env.ENCLAVE_CHECKSUM ?? '',
        defaultDescription: "$ENCLAVE_CHECKSUM, else the image's recorded checksum",
        describe: 'Pinned SHA-256 of the enclave function (64 hex digits)',
      })
      .option('cluster', {
        type: 'string',
        default: process.env.CLUSTER_ID || 'default',
        defaultDescription: '$CLUSTER_ID or default',
        describe: 'Cluster id the token must name',
      })
      .option('min-epoch', {
        type: 'number',
        describe: 'Refuse a token older than (min-epoch, min-seq): the newest one you have accepted',
      })
      .option('min-seq', { type: 'number', describe: 'With --min-epoch (default 0)' })
      .option('json', { type: 'boolean', default: false, describe: 'Print one JSON document' }),
  handler: (args) => {
    if (!args.root)
      throw new UsageError('token verify needs --root FILE (or PKI_ROOT): the pinned root certificate');
    if (!CLUSTER_ID.test(args.cluster))
      throw new UsageError(`--cluster '${args.cluster}' is not a cluster id`);
    const minEpoch = count(args['min-epoch'], '--min-epoch');
    const minSeq = count(args['min-seq'], '--min-seq');
    if (minSeq !== undefined && minEpoch === undefined) throw new UsageError('--min-seq needs --min-epoch');
    const token = args.token === '-' ? readFileSync(0, 'utf8').trim() : args.token;
    const now = Date.now();
    const outcome = runTokenVerify({
      token,
      rootPath: args.root,
      checksum: resolvePinnedChecksum(args.checksum).checksum,
      clusterId: args.cluster,
      now: () => now,
      ...(minEpoch === undefined ? {} : { minimum: { epoch: minEpoch, seq: minSeq ?? 0 } }),
    });
    if (args.json) process.stdout.write(`${JSON.stringify(outcomeJson(outcome, now))}\n`);
    else if (outcome.valid) process.stdout.write(outcomeText(outcome, now));
    else process.stderr.write(`enclave-elect token verify: ${outcomeText(outcome, now)}`);
    if (!outcome.valid) process.exitCode = 1;
  },
};

export const tokenCommand: CommandModule<object, object> = {
  command: 'token',
  describe: 'Fencing tokens: verify one offline',
  builder: (y: Argv) => y.command(verifyCommand).demandCommand(1, 'Name a token subcommand: verify'),
  handler: () => {},
};
