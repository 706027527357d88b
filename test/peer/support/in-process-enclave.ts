// The real enclave service, in this process, on the test's clock: the same
// rules, keys, signatures and sealed state as `enclave-elect enclave`, without
// HTTP. Each peer reaches it through its own `fetch` (the enclave client's
// injection point), so a test can cut one peer off the enclave.

import type { Policy } from '../../../src/crypto/leader-certificate.ts';
import { EnclaveService } from '../../../src/enclave/enclave-service.ts';
import { BUILT_IN_FUNCTION_PATH, LeaderFunction } from '../../../src/enclave/leader-function.ts';
import { attestationKeyDer, loadEnclavePki } from '../../../src/enclave/pki.ts';
import { RequestError } from '../../../src/enclave/requests.ts';
import { SealedStateStore, sealKeyFrom } from '../../../src/enclave/state-store.ts';
import { createLogger } from '../../../src/log/logger.ts';
import type { Clock } from '../../../src/time/clock.ts';
import { CLUSTER, TEST_KEY_BITS } from '../../enclave/fixture.ts';

export interface InProcessEnclaveOptions {
  pkiDir: string;
  stateDir: string;
  clock: Clock;
  policy: Policy;
  leaseMs: number;
}

export function inProcessEnclave(options: InProcessEnclaveOptions): EnclaveService {
  const pki = loadEnclavePki(options.pkiDir);
  return new EnclaveService({
    pki,
    store: new SealedStateStore(options.stateDir, sealKeyFrom(attestationKeyDer(pki))),
    leaderFunction: LeaderFunction.load(BUILT_IN_FUNCTION_PATH),
    clusterId: CLUSTER,
    policy: options.policy,
    leaseMs: options.leaseMs,
    clock: options.clock,
    logger: createLogger({ level: 'silent', destination: { write: () => {} } }),
    keyBits: TEST_KEY_BITS,
    // No cold-start settle: these runs measure failover after a cut, which never waits for it
    // (candidacies are in by then); the 250 ms only shifted the whole run against the probe
    // schedule, and seed 2 then needed one more renewal round to agree (3.0 s instead of <= 2.5 s).
    candidacySettleMs: 0,
  });
}

const json = (status: number, value: unknown) =>
  new Response(JSON.stringify(value), { status, headers: { 'content-type': 'application/json' } });

/**
 * A `fetch` that answers the enclave API from `service`, as http-server.ts
 * does, or fails like a refused connection while `reachable()` is false.
 */
export function inProcessFetch(service: EnclaveService, reachable: () => boolean): typeof fetch {
  return async (input, init) => {
    if (!reachable()) {
      const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
      throw new TypeError('fetch failed', { cause: refused });
    }
    const url = new URL(String(input));
    try {
      if (url.pathname === '/v1/attestation') {
        return new Response(service.attest(url.searchParams.get('nonce') ?? ''), { status: 200 });
      }
      const body: unknown = JSON.parse(String(init?.body));
      if (url.pathname === '/v1/elect') return json(200, await service.elect(body));
      if (url.pathname === '/v1/renew') return json(200, await service.renew(body));
      if (url.pathname === '/v1/resign') return json(200, await service.resign(body));
      return json(404, { error: { code: 'E_NOT_FOUND', message: `no route ${url.pathname}` } });
    } catch (error) {
      if (!(error instanceof RequestError)) throw error;
      return json(error.status, { error: { code: error.code, message: error.message } });
    }
  };
}
