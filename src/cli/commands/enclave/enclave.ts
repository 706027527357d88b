// Logic of `enclave`: validate the options once, naming the bad one, then start.
import type { Policy } from '../../../crypto/leader-certificate.ts';
import type { StartedEnclaveServer } from '../../../enclave/http-server.ts';
import { type EnclaveSettings, startEnclave } from '../../../enclave/start-enclave.ts';
import { ConfigError, UsageError } from '../../../errors.ts';
import { HTTP_LIMIT_BOUNDS, type HttpLimits, httpLimitsProblem } from '../../../http/http-limits.ts';
import type { Logger } from '../../../log/logger.ts';

const CLUSTER = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
const MIN_LEASE_MS = 100;
const MAX_LEASE_MS = 600_000;

export interface EnclaveArgs {
  pki: string;
  host: string;
  port: number;
  'state-dir': string;
  policy: Policy;
  'lease-ms': number;
  function: string | undefined;
  'cluster-id': string;
  'join-secret': string | undefined;
  'admission-ttl-ms': number;
  'identities-per-address': number;
  'max-term': number;
  'headers-timeout-ms': number;
  'request-timeout-ms': number;
  'idle-timeout-ms': number;
  'max-connections': number;
}

function whole(args: EnclaveArgs, option: keyof EnclaveArgs, range: { min: number; max: number }): number {
  const value = args[option];
  if (typeof value !== 'number' || !Number.isInteger(value) || value < range.min || value > range.max) {
    throw new ConfigError(
      `--${option}`,
      `must be an integer from ${range.min} to ${range.max}, got ${value}`,
    );
  }
  return value;
}

function httpLimits(args: EnclaveArgs): HttpLimits {
  const timeout = HTTP_LIMIT_BOUNDS.timeoutMs;
  const limits = {
    headersTimeoutMs: whole(args, 'headers-timeout-ms', timeout),
    requestTimeoutMs: whole(args, 'request-timeout-ms', timeout),
    idleTimeoutMs: whole(args, 'idle-timeout-ms', timeout),
    maxConnections: whole(args, 'max-connections', HTTP_LIMIT_BOUNDS.maxConnections),
  };
  const problem = httpLimitsProblem(limits);
  if (problem) throw new ConfigError('--headers-timeout-ms', problem);
  return limits;
}

/** Admission TTL bounds: long enough to keep re-admission rare, short enough to free a dead member's name. */
export const MIN_ADMISSION_TTL_MS = 10_000;
export const MAX_ADMISSION_TTL_MS = 86_400_000;

export function validateEnclaveOptions(args: EnclaveArgs): Omit<EnclaveSettings, 'logger'> {
  if (!args.pki)
    throw new UsageError('enclave needs --pki DIR (or PKI_DIR); create one with `pki init --out DIR`');
  if (!Number.isInteger(args.port) || args.port < 0 || args.port > 65535) {
    throw new ConfigError('--port', `must be 0-65535, got ${args.port}`);
  }
  const leaseMs = args['lease-ms'];
  if (!Number.isInteger(leaseMs) || leaseMs < MIN_LEASE_MS || leaseMs > MAX_LEASE_MS) {
    throw new ConfigError(
      '--lease-ms',
      `must be an integer from ${MIN_LEASE_MS} to ${MAX_LEASE_MS}, got ${leaseMs}`,
    );
  }
  if (!CLUSTER.test(args['cluster-id'])) {
    throw new ConfigError('--cluster-id', 'must be 1-63 characters of [A-Za-z0-9._-], starting alphanumeric');
  }
  const ttl = args['admission-ttl-ms'];
  if (
    ttl !== undefined &&
    (!Number.isInteger(ttl) || ttl < MIN_ADMISSION_TTL_MS || ttl > MAX_ADMISSION_TTL_MS)
  ) {
    throw new ConfigError(
      '--admission-ttl-ms',
      `must be an integer from ${MIN_ADMISSION_TTL_MS} to ${MAX_ADMISSION_TTL_MS}, got ${ttl}`,
    );
  }
  const perAddress = args['identities-per-address'];
  if (perAddress !== undefined && (!Number.isInteger(perAddress) || perAddress < 1 || perAddress > 4096)) {
    throw new ConfigError('--identities-per-address', `must be an integer from 1 to 4096, got ${perAddress}`);
  }
  const maxTerm = args['max-term'];
  if (maxTerm !== undefined && maxTerm !== 0 && (!Number.isInteger(maxTerm) || maxTerm < 2 * leaseMs)) {
    throw new ConfigError(
      '--max-term',
      `must be 0 (off) or an integer of at least two leases (${2 * leaseMs} ms), got ${maxTerm}`,
    );
  }
  return {
    pkiDir: args.pki,
    stateDir: args['state-dir'],
    clusterId: args['cluster-id'],
    policy: args.policy,
    leaseMs,
    host: args.host,
    port: args.port,
    httpLimits: httpLimits(args),
    ...(args.function ? { functionPath: args.function } : {}),
    ...(args['join-secret'] ? { joinSecretPath: args['join-secret'] } : {}),
    ...(ttl === undefined ? {} : { admissionTtlMs: ttl }),
    ...(perAddress === undefined ? {} : { identitiesPerAddress: perAddress }),
    ...(maxTerm ? { maxTermMs: maxTerm } : {}),
  };
}

export function runEnclave(
  settings: Omit<EnclaveSettings, 'logger'>,
  logger: Logger,
): Promise<StartedEnclaveServer> {
  return startEnclave({ ...settings, logger });
}
