// A stand-in for the enclave's admission service in simulations: one Ed25519
// admission key that signs admission certificates, and the map of "attested"
// keys peers verify them with. An outsider's forgery is the same
// certificate signed by a key that is not in that map.
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import {
  type AdmissionClaims,
  admissionKeyId,
  signAdmission,
} from '../../../src/crypto/admission-certificate.ts';

export const SIM_CLUSTER = 'sim';

export interface TestIdentity {
  privateKey: KeyObject;
  /** Raw 32-byte Ed25519 public key. */
  publicKey: Uint8Array;
}

export function newIdentity(): TestIdentity {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privateKey,
    publicKey: new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }).subarray(-32)),
  };
}

export class TestAdmissions {
  readonly #enclave: { privateKey: KeyObject; publicKey: KeyObject };
  readonly kid: string;
  readonly keys: Map<string, KeyObject>;
  #serial = 0;

  constructor(enclave = generateKeyPairSync('ed25519')) {
    this.#enclave = enclave;
    this.kid = admissionKeyId(enclave.publicKey);
    this.keys = new Map([[this.kid, enclave.publicKey]]);
  }

  /** An admission certificate for `name` with this raw key, valid from `now` for `ttlMs`. */
  issue(
    name: string,
    publicKey: Uint8Array,
    options: { now?: number; ttlMs?: number; address?: string } = {},
  ): string {
    const iat = options.now ?? 0;
    const claims: AdmissionClaims = {
      v: 2,
      cluster_id: SIM_CLUSTER,
      name,
      key: Buffer.from(publicKey).toString('base64url'),
      address: options.address ?? '10.0.0.1',
      serial: ++this.#serial,
      iat,
      exp: iat + (options.ttlMs ?? 3_600_000),
    };
    return signAdmission(claims, { kid: this.kid, key: this.#enclave.privateKey });
  }
}
