// The `enclave` command's flags parsed without yargs (about 5 MB of RSS in a
// process that runs for days, issue 12). The defaults, with their
// environment variables, are the ones the yargs builder shows in --help.
import { parseArgs } from 'node:util';
import { DEFAULT_POLICY, POLICIES, type Policy } from '../../../crypto/leader-certificate.ts';
import { UsageError } from '../../../errors.ts';
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
  return {
    ...defaults,
    ...Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined)),
    policy: policy as Policy,
    port: values.port === undefined ? defaults.port : wholeNumber(values.port),
    'lease-ms': values['lease-ms'] === undefined ? defaults['lease-ms'] : wholeNumber(values['lease-ms']),
  };
}
