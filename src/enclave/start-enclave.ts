// Assemble a running enclave from its settings: PKI from disk, function
// bundle, sealed state store, service, HTTP server. Used by the CLI, tests
// and the benchmark alike.
import type { Policy } from '../crypto/leader-certificate.ts';
import type { HttpLimits } from '../http/http-limits.ts';
import type { Logger } from '../log/logger.ts';
import { type Clock, systemClock } from '../time/clock.ts';
import { EnclaveService } from './enclave-service.ts';
import { type StartedEnclaveServer, startEnclaveServer } from './http-server.ts';
import { BUILT_IN_FUNCTION_PATH, LeaderFunction } from './leader-function.ts';
import { attestationKeyDer, loadEnclavePki } from './pki.ts';
import { SealedStateStore, sealKeyFrom } from './state-store.ts';

export interface EnclaveSettings {
  pkiDir: string;
  stateDir: string;
  clusterId: string;
  policy: Policy;
  leaseMs: number;
  functionPath?: string;
  host?: string;
  port?: number;
  /** Timeouts and connection cap of the HTTP server (ENCLAVE_HTTP_LIMITS unless given). */
  httpLimits?: HttpLimits;
  logger: Logger;
  clock?: Clock;
  /** Test-only: enclave key size below 2048 bits. */
  keyBits?: number;
}

export async function startEnclave(settings: EnclaveSettings): Promise<StartedEnclaveServer> {
  const pki = loadEnclavePki(settings.pkiDir);
  const store = new SealedStateStore(settings.stateDir, sealKeyFrom(attestationKeyDer(pki)));
  const logger = settings.logger.child({ component: 'enclave' });
  const service = new EnclaveService({
    pki,
    store,
    leaderFunction: LeaderFunction.load(settings.functionPath ?? BUILT_IN_FUNCTION_PATH),
    clusterId: settings.clusterId,
    policy: settings.policy,
    leaseMs: settings.leaseMs,
    clock: settings.clock ?? systemClock,
    logger,
    ...(settings.keyBits === undefined ? {} : { keyBits: settings.keyBits }),
  });
  return startEnclaveServer(service, {
    logger,
    ...(settings.host === undefined ? {} : { host: settings.host }),
    ...(settings.port === undefined ? {} : { port: settings.port }),
    ...(settings.httpLimits === undefined ? {} : { limits: settings.httpLimits }),
  });
}
