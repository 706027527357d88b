// The LeaderAuthority the election runtime uses in production: the attesting
// EnclaveClient (which verifies every answer against the pinned root and
// checksum) plus this peer's Ed25519 key for signing renew/resign requests.
import { createHash, type KeyObject } from 'node:crypto';
import type { LeaderCertificateClaims } from '../../crypto/leader-certificate.ts';
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

const entries = (members: MemberRef[]) => members.map((m) => ({ name: m.name, key: m.publicKey }));

export class EnclaveAuthority implements LeaderAuthority {
  readonly #client: EnclaveClient;
  readonly #signer: KeyObject;

  constructor(client: EnclaveClient, signer: KeyObject) {
    this.#client = client;
    this.#signer = signer;
  }

  async elect(members: MemberRef[], knownEpoch: number, waitMs: number): Promise<ElectionCertificate> {
    return toElectionCertificate(await this.#client.elect({ members: entries(members), knownEpoch, waitMs }));
  }

  async renew(certificate: ElectionCertificate): Promise<ElectionCertificate> {
    const lease = await this.#claims(certificate);
    return toElectionCertificate(await this.#client.renew({ lease, signer: this.#signer }));
  }

  async resign(certificate: ElectionCertificate, members: MemberRef[]): Promise<ElectionCertificate | null> {
    const lease = await this.#claims(certificate);
    const next = await this.#client.resign({ lease, signer: this.#signer, members: entries(members) });
    return next === null ? null : toElectionCertificate(next);
  }

  async verify(compact: string): Promise<ElectionCertificate> {
    return toElectionCertificate({ token: compact, claims: await this.#client.verifyCertificate(compact) });
  }

  /** Claims of a certificate we hold (verification is cached by hash, so this is cheap). */
  #claims(certificate: ElectionCertificate): Promise<LeaderCertificateClaims> {
    return this.#client.verifyCertificate(certificate.compact);
  }
}
