// `enclave-elect enclave`: run the mock enclave service; `enclave checksum`:
// print the function checksum (the "deploy output" peers pin). Every flag has
// an environment variable; precedence is flag, then environment, then default.
import type { Argv, CommandModule } from 'yargs';
import { POLICIES } from '../../../crypto/leader-certificate.ts';
import { ADMISSION_DEFAULTS } from '../../../enclave/admission-service.ts';
import { ENCLAVE_HTTP_LIMITS } from '../../../enclave/http-server.ts';
import { HTTP_LIMIT_DEFAULTS } from '../../../http/http-limits.ts';
import { createLogger } from '../../../log/logger.ts';
import { enclaveDefaults, parseEnclaveArgv } from './argv.ts';
import { type EnclaveArgs, runEnclave, validateEnclaveOptions } from './enclave.ts';
import { functionChecksumReport } from './function-checksum.ts';

export type EnclaveOptions = EnclaveArgs;

export interface ChecksumOptions {
  function: string | undefined;
  json: boolean;
}

const env = process.env;

const checksumCommand: CommandModule<object, ChecksumOptions> = {
  command: 'checksum',
  describe: 'Print the SHA-256 checksum of the leader-choice function bundle',
  builder: (y) =>
    y
      .option('function', {
        type: 'string',
        default: env.ENCLAVE_FUNCTION,
        defaultDescription: '$ENCLAVE_FUNCTION or the built-in bundle',
        describe: 'Function bundle to hash',
      })
      .option('json', { type: 'boolean', default: false, describe: 'Print one JSON document' }),
  handler: (args) => {
    const report = functionChecksumReport(args.function);
    process.stdout.write(args.json ? `${JSON.stringify(report)}\n` : `${report.checksum}\n`);
  },
};

function enclaveOptions(y: Argv): Argv<EnclaveOptions> {
  const defaults = enclaveDefaults(env);
  return y
    .option('pki', {
      type: 'string',
      default: defaults.pki,
      defaultDescription: '$PKI_DIR',
      describe: 'PKI directory made by `pki init` (attestation key and certificate, root)',
    })
    .option('host', {
      type: 'string',
      default: defaults.host,
      describe: 'Address to listen on [$ENCLAVE_HOST]',
    })
    .option('port', {
      type: 'number',
      default: defaults.port,
      describe: 'TCP port [$ENCLAVE_PORT]',
    })
    .option('state-dir', {
      type: 'string',
      default: defaults['state-dir'],
      describe: 'Directory for the sealed epoch state [$ENCLAVE_STATE_DIR]',
    })
    .option('policy', {
      choices: POLICIES,
      default: defaults.policy,
      describe: 'Leader-choice policy [$ENCLAVE_POLICY]',
    })
    .option('lease-ms', {
      type: 'number',
      default: defaults['lease-ms'],
      describe: 'Lease length in milliseconds [$ENCLAVE_LEASE_MS]',
    })
    .option('function', {
      type: 'string',
      default: defaults.function,
      defaultDescription: 'the built-in bundle',
      describe: 'Load this function bundle instead (a tampered enclave, for experiments) [$ENCLAVE_FUNCTION]',
    })
    .option('cluster-id', {
      type: 'string',
      default: defaults['cluster-id'],
      describe: 'Cluster id certificates are issued for [$CLUSTER_ID]',
    })
    .option('join-secret', {
      type: 'string',
      default: env.JOIN_SECRET,
      defaultDescription: 'none: nobody is admitted',
      describe:
        'Cluster join secret (join.key or its directory, from `pki init --join DIR`); members prove it to be admitted [$JOIN_SECRET]',
    })
    .option('admission-ttl-ms', {
      type: 'number',
      default: Number(env.ADMISSION_TTL_MS ?? ADMISSION_DEFAULTS.ttlMs),
      describe:
        'How long an admission stands; members re-admit at half of it, and a name held at another address is free again after it [$ADMISSION_TTL_MS]',
    })
    .option('identities-per-address', {
      type: 'number',
      default: Number(env.IDENTITIES_PER_ADDRESS ?? ADMISSION_DEFAULTS.identitiesPerAddress),
      describe:
        'Live admitted identities one TCP source address may hold: 1 where every member has its own address (containers); more only where peers share one host address (local mode) [$IDENTITIES_PER_ADDRESS]',
    })
    .option('max-term', {
      type: 'number',
      default: Number(env.MAX_TERM_MS ?? 0),
      defaultDescription: '0: off (a leader keeps its lease while it renews)',
      describe:
        'Milliseconds a leader may hold one epoch; past it, renewals are refused (E_MAX_TERM), the lease runs out and a successor is elected by VRF without it: rotation for validator-like use, at the cost of one lease without a leader per term [$MAX_TERM_MS]',
    })
    .option('headers-timeout-ms', {
      type: 'number',
      default: Number(env.ENCLAVE_HEADERS_TIMEOUT_MS ?? ENCLAVE_HTTP_LIMITS.headersTimeoutMs),
      describe: `HTTP: a request line and headers must arrive within this, then 408 (${HTTP_LIMIT_DEFAULTS.headersTimeoutMs.reason}) [$ENCLAVE_HEADERS_TIMEOUT_MS]`,
    })
    .option('request-timeout-ms', {
      type: 'number',
      default: Number(env.ENCLAVE_REQUEST_TIMEOUT_MS ?? ENCLAVE_HTTP_LIMITS.requestTimeoutMs),
      describe: `HTTP: a whole request, headers and body, must arrive within this (${HTTP_LIMIT_DEFAULTS.requestTimeoutMs.reason}) [$ENCLAVE_REQUEST_TIMEOUT_MS]`,
    })
    .option('idle-timeout-ms', {
      type: 'number',
      default: Number(env.ENCLAVE_IDLE_TIMEOUT_MS ?? ENCLAVE_HTTP_LIMITS.idleTimeoutMs),
      describe: `HTTP: a kept-alive connection with no request is closed after this (${HTTP_LIMIT_DEFAULTS.idleTimeoutMs.reason}) [$ENCLAVE_IDLE_TIMEOUT_MS]`,
    })
    .option('max-connections', {
      type: 'number',
      default: Number(env.ENCLAVE_MAX_CONNECTIONS ?? ENCLAVE_HTTP_LIMITS.maxConnections),
      describe:
        'HTTP: connections open at once, one more is closed when accepted (held elect requests count: at a lease end every peer without a lease asks) [$ENCLAVE_MAX_CONNECTIONS]',
    }) as unknown as Argv<EnclaveOptions>;
}

export const enclaveCommand: CommandModule<object, EnclaveOptions> = {
  command: 'enclave',
  // describe: in ../index.ts, so help lists every command without loading it.
  builder: (y) => enclaveOptions(y.command(checksumCommand)),
  handler: (args) => serveEnclave(args),
};

/** `enclave ARGS` without yargs: how the container's process starts (see ./argv.ts). */
export async function runEnclaveArgv(argv: readonly string[]): Promise<void> {
  await serveEnclave(parseEnclaveArgv(argv));
}

/** Serve until SIGTERM or SIGINT, then close. */
async function serveEnclave(args: EnclaveArgs): Promise<void> {
  const settings = validateEnclaveOptions(args);
  const logger = createLogger();
  const started = await runEnclave(settings, logger);
  await new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      logger.info({ event: 'enclave.signal', signal });
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      void started.close().then(resolve);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}
