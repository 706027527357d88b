// The `enclave` command's flags parsed without yargs (about 5 MB of RSS in a
// process that runs for days, issue 12). The defaults, with their
// environment variables, are the ones the yargs builder shows in --help.

import { DEFAULT_POLICY, POLICIES, type Policy } from '../../../crypto/leader-certificate.ts';
import { ADMISSION_DEFAULTS } from '../../../enclave/admission-service.ts';
import { ENCLAVE_HTTP_LIMITS } from '../../../enclave/http-server.ts';
import { UsageError } from '../../../errors.ts';
import { parseArgs } from '../../../platform/node-util.ts';
import type { EnclaveArgs } from './enclave.ts';

/** Every option's default, read from the environment: one table for both parsers. */
export function enclaveDefaults(env: NodeJS.ProcessEnv): EnclaveArgs {
  return {
    pki: env.PKI_DIR ?? '',
    host: env.ENCLAVE_HOST ?? '0.0.0.0',
    port: Number(env.ENCLAVE_PORT ?? 8000),
    'state-dir': env.ENCLAVE_STATE_DIR ?? 'enclave-state',
    policy: (env.ENCLAVE_POLICY ?? DEFAULT_POLICY) as Policy,
    'lease-ms': Number(env.ENCLAVE_LEASE_MS ?? 2000),
    function: env.ENCLAVE_FUNCTION,
    'cluster-id': env.CLUSTER_ID ?? 'default',
    'join-secret': env.JOIN_SECRET,
    'admission-ttl-ms': Number(env.ADMISSION_TTL_MS ?? ADMISSION_DEFAULTS.ttlMs),
    'identities-per-address': Number(env.IDENTITIES_PER_ADDRESS ?? ADMISSION_DEFAULTS.identitiesPerAddress),
    'headers-timeout-ms': Number(env.ENCLAVE_HEADERS_TIMEOUT_MS ?? ENCLAVE_HTTP_LIMITS.headersTimeoutMs),
    'request-timeout-ms': Number(env.ENCLAVE_REQUEST_TIMEOUT_MS ?? ENCLAVE_HTTP_LIMITS.requestTimeoutMs),
    'idle-timeout-ms': Number(env.ENCLAVE_IDLE_TIMEOUT_MS ?? ENCLAVE_HTTP_LIMITS.idleTimeoutMs),
    'max-connections': Number(env.ENCLAVE_MAX_CONNECTIONS ?? ENCLAVE_HTTP_LIMITS.maxConnections),
    'max-term': Number(env.MAX_TERM_MS ?? 0),
  };
}

/** A whole number as yargs' number type would read it; anything else is NaN, which validation names. */
const wholeNumber = (raw: string): number => (/^\s*\d+\s*$/.test(raw) ? Number(raw) : Number.NaN);

/** Parse the arguments after `enclave` (not `enclave checksum`, which yargs runs). */
export function parseEnclaveArgv(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): EnclaveArgs {
  const defaults = enclaveDefaults(env);
  const options = Object.fromEntries(
    Object.keys(defaults).map((flag) => [flag, { type: 'string' as const }]),
  );
  let values: Record<string, string | undefined>;
  try {
    ({ values } = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }) as {
      values: Record<string, string | undefined>;
    });
  } catch (error) {
    throw new UsageError((error as Error).message.split('\n')[0]!, { cause: error });
  }
  const policy = values.policy ?? defaults.policy;
  if (!POLICIES.includes(policy as Policy))
    throw new UsageError(`--policy must be one of ${POLICIES.join(', ')}, got '${policy}'`);
  // Numbers are the options whose default is a number (as yargs' number type reads them).
  const given = Object.entries(values).flatMap(([flag, value]) =>
    value === undefined
      ? []
      : [[flag, typeof defaults[flag as keyof EnclaveArgs] === 'number' ? wholeNumber(value) : value]],
  );
  return { ...defaults, ...Object.fromEntries(given), policy: policy as Policy };
}
