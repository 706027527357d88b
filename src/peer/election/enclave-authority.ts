// The LeaderAuthority the election runtime uses in production: the attesting
// EnclaveClient (which verifies every answer against the pinned root and
// checksum) plus this peer's Ed25519 key for signing renew/resign requests.
import { createHash, type KeyObject } from 'node:crypto';
import type { LeaderCertificateClaims } from '../../crypto/leader-certificate.ts';
import { VerificationError } from '../../crypto/verification-error.ts';
import type { EnclaveClient, VerifiedLease } from '../../enclave/client/enclave-client.ts';
import type { LeaderAuthority } from './runtime.ts';
import type { ElectionCertificate, MemberRef } from './types.ts';

export function toElectionCertificate(lease: VerifiedLease): ElectionCertificate {
  const { token, claims } = lease;
  return {
    hash: createHash('sha256').update(token).digest('hex'),
    compact: token,
    clusterId: claims.cluster_id,
    epoch: claims.epoch,
    seq: claims.seq,
    leader: claims.leader.name,
    leaderKey: claims.leader.key,
    policy: claims.policy,
    issuedAt: claims.iat,
    leaseEndsAt: claims.lease_end,
  };
}

/** Is `name` an admitted member with exactly this key (the peer's admission book)? */
export type AdmittedCheck = (name: string, key: string) => boolean;

export class EnclaveAuthority implements LeaderAuthority {
  readonly #client: EnclaveClient;
  readonly #signer: KeyObject;
  readonly #name: string;
  readonly #admitted: AdmittedCheck | undefined;

  /** Without `admitted` (no admission on this cluster) any verified certificate is adopted. */
  constructor(client: EnclaveClient, signer: KeyObject, name: string, admitted?: AdmittedCheck) {
    this.#client = client;
    this.#signer = signer;
    this.#name = name;
    this.#admitted = admitted;
  }

  /** Stand as a candidate: the enclave, not this view, decides who the candidates are. */
  async elect(_members: MemberRef[], knownEpoch: number, waitMs: number): Promise<ElectionCertificate> {
    const lease = await this.#client.elect({ name: this.#name, signer: this.#signer, knownEpoch, waitMs });
    return this.#adoptable(toElectionCertificate(lease));
  }

  async renew(certificate: ElectionCertificate): Promise<ElectionCertificate> {
    const lease = await this.#claims(certificate);
    return this.#adoptable(toElectionCertificate(await this.#client.renew({ lease, signer: this.#signer })));
  }

  /** Hand over: the enclave elects the successor from its own candidates, without us. */
  async resign(certificate: ElectionCertificate, _members: MemberRef[]): Promise<ElectionCertificate | null> {
    const lease = await this.#claims(certificate);
    const next = await this.#client.resign({ lease, signer: this.#signer });
    return next === null ? null : this.#adoptable(toElectionCertificate(next));
  }

  async verify(compact: string): Promise<ElectionCertificate> {
    const claims = await this.#client.verifyCertificate(compact);
    return this.#adoptable(toElectionCertificate({ token: compact, claims }));
  }

  /** Adopt only a certificate whose leader is an admitted member holding that key. */
  #adoptable(certificate: ElectionCertificate): ElectionCertificate {
    if (this.#admitted && !this.#admitted(certificate.leader, certificate.leaderKey)) {
      throw new VerificationError(
        'E_CERT_NOT_ADMITTED',
        `leader certificate refused: ${certificate.leader} is not an admitted member with key ${certificate.leaderKey.slice(0, 8)}…`,
      );
    }
    return certificate;
  }

  /** Claims of a certificate we hold (verification is cached by hash, so this is cheap). */
  #claims(certificate: ElectionCertificate): Promise<LeaderCertificateClaims> {
    return this.#client.verifyCertificate(certificate.compact);
  }
}
