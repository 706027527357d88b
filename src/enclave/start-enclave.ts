// Assemble a running enclave from its settings: PKI from disk, function
// bundle, sealed state store, service, HTTP server. Used by the CLI, tests
// and the benchmark alike.
import type { Policy } from '../crypto/leader-certificate.ts';
import type { HttpLimits } from '../http/http-limits.ts';
import type { Logger } from '../log/logger.ts';

import { type Clock, systemClock } from '../time/clock.ts';
import { ADMISSION_DEFAULTS } from './admission-service.ts';
import { SealedAdmissionStore } from './admission-store.ts';

import { EnclaveService } from './enclave-service.ts';
import { type StartedEnclaveServer, startEnclaveServer } from './http-server.ts';
import { loadJoinSecret } from './join-secret.ts';
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
  /** The cluster join secret (file or directory of join.key); without it nobody is admitted. */
  joinSecretPath?: string;
  admissionTtlMs?: number;
  /** Live identities per source address; above 1 only where peers share one address (local mode). */
  identitiesPerAddress?: number;
  /** A leader that has held its epoch this long gets no more renewals (absent or 0: off). */
  maxTermMs?: number;
  /** How long an election waits after the first candidacy that opened it (default CANDIDACY_DEFAULTS). */
  candidacySettleMs?: number;
  /** How long a member's candidacy counts (default CANDIDACY_DEFAULTS). */
  candidacyWindowMs?: number;
}

export async function startEnclave(settings: EnclaveSettings): Promise<StartedEnclaveServer> {
  const pki = loadEnclavePki(settings.pkiDir);
  const sealKey = sealKeyFrom(attestationKeyDer(pki));
  const store = new SealedStateStore(settings.stateDir, sealKey);
  const admission = settings.joinSecretPath && {
    settings: {
      joinSecret: loadJoinSecret(settings.joinSecretPath),
      ttlMs: settings.admissionTtlMs ?? ADMISSION_DEFAULTS.ttlMs,
      identitiesPerAddress: settings.identitiesPerAddress ?? ADMISSION_DEFAULTS.identitiesPerAddress,
      skewMs: ADMISSION_DEFAULTS.skewMs,
    },
    store: new SealedAdmissionStore(settings.stateDir, sealKey),
  };
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
    ...(admission ? { admission } : {}),
    ...(settings.maxTermMs ? { maxTermMs: settings.maxTermMs } : {}),
    ...(settings.candidacySettleMs === undefined ? {} : { candidacySettleMs: settings.candidacySettleMs }),
    ...(settings.candidacyWindowMs === undefined ? {} : { candidacyWindowMs: settings.candidacyWindowMs }),
  });
  return startEnclaveServer(service, {
    logger,
    ...(settings.host === undefined ? {} : { host: settings.host }),
    ...(settings.port === undefined ? {} : { port: settings.port }),
    ...(settings.httpLimits === undefined ? {} : { limits: settings.httpLimits }),
  });
}
