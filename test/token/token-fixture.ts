// A real enclave on loopback (test-size keys) that grants a lease, and the
// fencing token a leader would hand out for it.

import type { LeaderCertificate } from '../../src/crypto/leader-certificate.ts';
import { MIN_PRODUCT_RSA_BITS } from '../../src/crypto/rsa-keys.ts';
import { encodeFencingToken } from '../../src/token/fencing-token.ts';
import { TokenVerifier, type TokenVerifierOptions } from '../../src/token/verify-token.ts';
import {
  CLUSTER,
  electAs,
  makeClient,
  makePeers,
  makePki,
  removeDir,
  startTestEnclave,
  TEST_KEY_BITS,
  type TestEnclave,
  type TestPki,
} from '../enclave/fixture.ts';

export interface TokenFixture {
  pki: TestPki;
  enclave: TestEnclave;
  lease: LeaderCertificate;
  attestation: string;
  token: string;
  verifier(overrides?: Partial<TokenVerifierOptions>): TokenVerifier;
  close(): Promise<void>;
}

/** `productKeys`: 2048-bit RSA throughout, as the product makes them (jose refuses less). */
export async function startTokenFixture(options: { productKeys?: boolean } = {}): Promise<TokenFixture> {
  const keyBits = options.productKeys ? MIN_PRODUCT_RSA_BITS : TEST_KEY_BITS;
  const pki = makePki(keyBits);
  // A long lease, so a token stays valid while a child process (CLI, openssl) checks it.
  const enclave = await startTestEnclave({ pki, leaseMs: 60_000, keyBits });
  const client = makeClient(enclave, pki, enclave.service.checksum, { minKeyBits: keyBits });
  const lease = await electAs(client, makePeers(1)[0]!);
  const attestation = client.attestationFor(lease.claims.kid);
  if (!attestation) throw new Error('the client kept no attestation for the lease key');
  return {
    pki,
    enclave,
    lease,
    attestation,
    token: encodeFencingToken({ certificate: lease.compact, attestation }),
    verifier: (overrides = {}) =>
      new TokenVerifier({
        root: pki.root,
        pinnedChecksum: enclave.service.checksum,
        clusterId: CLUSTER,
        minKeyBits: keyBits,
        now: () => lease.claims.iat,
        ...overrides,
      }),
    close: async () => {
      await enclave.close();
      removeDir(enclave.stateDir);
      removeDir(pki.dir);
    },
  };
}
