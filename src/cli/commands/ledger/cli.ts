// `enclave-elect ledger serve`: the demo fenced resource (docs/leader-api.md,
// README "Use the leader from your application"); `ledger write`: the writer an
// `--exec` child runs on the leader. Flags have environment variables.
import { hostname } from 'node:os';
import type { Argv, CommandModule } from 'yargs';
import { resolvePinnedChecksum } from '../../../enclave/client/pinned-checksum.ts';
import { UsageError } from '../../../errors.ts';
import { Ledger } from '../../../ledger/ledger.ts';
import { startLedgerServer } from '../../../ledger/ledger-server.ts';
import { runWriter } from '../../../ledger/ledger-writer.ts';
import { createLogger } from '../../../log/logger.ts';
import { TokenVerifier } from '../../../token/verify-token.ts';
import { loadRoot } from '../token/token-verify.ts';

const env = process.env;

interface ServeOptions {
  host: string;
  port: number;
  root: string;
  checksum: string;
  cluster: string;
}

interface WriteOptions {
  ledger: string;
  'token-url': string;
  name: string;
  'interval-ms': number;
}

/** Resolve on SIGTERM or SIGINT (the container's stop, Ctrl-C). */
function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      process.off('SIGTERM', done);
      process.off('SIGINT', done);
      resolve();
    };
    process.on('SIGTERM', done);
    process.on('SIGINT', done);
  });
}

const serveCommand: CommandModule<object, ServeOptions> = {
  command: 'serve',
  describe: 'Serve an append-only ledger that accepts appends only with a fresh, valid fencing token',
  builder: (y) =>
    y
      .option('host', {
        type: 'string',
        default: env.LEDGER_HOST ?? '0.0.0.0',
        describe: 'Address to listen on',
      })
      .option('port', { type: 'number', default: Number(env.LEDGER_PORT ?? 8100), describe: 'TCP port' })
      .option('root', {
        type: 'string',
        default: env.PKI_ROOT ?? '',
        describe: 'Pinned root certificate (PEM)',
      })
      .option('checksum', {
        type: 'string',
        default: env.ENCLAVE_CHECKSUM ?? '',
        defaultDescription: "$ENCLAVE_CHECKSUM, else the image's recorded checksum",
        describe: 'Pinned function checksum',
      })
      .option('cluster', {
        type: 'string',
        default: env.CLUSTER_ID || 'default',
        describe: 'Cluster id tokens must name',
      }),
  handler: async (args) => {
    if (!args.root) throw new UsageError('ledger serve needs --root FILE (or PKI_ROOT)');
    if (!Number.isInteger(args.port) || args.port < 0 || args.port > 65535)
      throw new UsageError('--port must be 0..65535');
    const logger = createLogger().child({ component: 'ledger' });
    const verifier = new TokenVerifier({
      root: loadRoot(args.root),
      pinnedChecksum: resolvePinnedChecksum(args.checksum).checksum,
      clusterId: args.cluster,
    });
    const server = await startLedgerServer({
      ledger: new Ledger(verifier),
      logger,
      host: args.host,
      port: args.port,
    });
    await untilSignal();
    await server.close();
  },
};

const writeCommand: CommandModule<object, WriteOptions> = {
  command: 'write',
  describe: "Append to the ledger every interval with this peer's current token (run it with peer --exec)",
  builder: (y) =>
    y
      .option('ledger', {
        type: 'string',
        default: env.LEDGER_URL ?? '',
        describe: 'Ledger base URL, e.g. http://ledger:8100',
      })
      .option('token-url', {
        type: 'string',
        default: env.ENCLAVE_ELECT_TOKEN_URL ?? '',
        defaultDescription: '$ENCLAVE_ELECT_TOKEN_URL (set by peer --exec)',
        describe: "The peer's /v1/token",
      })
      .option('name', {
        type: 'string',
        default: env.PEER_NAME || hostname(),
        describe: 'Prefix of the entries',
      })
      .option('interval-ms', { type: 'number', default: 100, describe: 'Between appends' }),
  handler: async (args) => {
    if (!args.ledger) throw new UsageError('ledger write needs --ledger URL (or LEDGER_URL)');
    if (!args['token-url']) throw new UsageError('ledger write needs --token-url (set by peer --exec)');
    if (!(args['interval-ms'] >= 1 && args['interval-ms'] <= 60_000))
      throw new UsageError('--interval-ms must be 1..60000');
    const stop = new AbortController();
    void untilSignal().then(() => stop.abort());
    await runWriter({
      ledgerUrl: args.ledger.replace(/\/+$/, ''),
      tokenUrl: args['token-url'],
      name: args.name,
      intervalMs: args['interval-ms'],
      signal: stop.signal,
    });
  },
};

export const ledgerCommand: CommandModule<object, object> = {
  command: 'ledger',
  builder: (y: Argv) =>
    y.command(serveCommand).command(writeCommand).demandCommand(1, 'Name a ledger subcommand: serve, write'),
  handler: () => {},
};
