// Leader certificates for tests of the election core, which trusts the shell
// to have verified them: the claims are filled in, the JWS is a placeholder.
import type { LeaderCertificate, Policy } from '../../../src/crypto/leader-certificate.ts';

export interface CertificateFields {
  clusterId: string;
  epoch: number;
  seq: number;
  leader: string;
  leaderKey: string;
  policy: Policy;
  issuedAt: number;
  leaseEndsAt: number;
}

export function testCertificate(fields: CertificateFields): LeaderCertificate {
  const { clusterId, epoch, seq, leader, leaderKey, policy, issuedAt, leaseEndsAt } = fields;
  return {
    compact: `jws.${epoch}.${seq}`,
    hash: `${epoch}.${seq}.${leader}`,
    claims: {
      v: 1,
      cluster_id: clusterId,
      epoch,
      seq,
      leader: { name: leader, key: leaderKey },
      members_digest: '0'.repeat(64),
      member_count: 1,
      leader_index: 0,
      policy,
      proof: null,
      func_checksum: '0'.repeat(64),
      kid: 'test-kid',
      iat: issuedAt,
      lease_end: leaseEndsAt,
    },
  };
}
