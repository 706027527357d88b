// What the election core consumes and produces. The core is pure: the peer's
// election shell (peer-election.ts) verifies certificates, talks to the
// enclave, gossips and logs. Certificates reach the core already verified, as
// LeaderCertificate (compact JWS, hash, claims: see crypto/leader-certificate.ts).
import type { LeaderCertificate } from '../../crypto/leader-certificate.ts';

export interface MemberIdentity {
  name: string;
  publicKey: string;
}

export type ReleaseReason = 'expired' | 'resigned' | 'superseded';

export type RequestKind = 'elect' | 'renew' | 'resign';

export type ElectionEffect =
  | { type: 'elect'; sentAt: number; members: MemberIdentity[]; knownEpoch: number; waitMs: number }
  | { type: 'renew'; sentAt: number; certificate: LeaderCertificate }
  | { type: 'resign'; sentAt: number; certificate: LeaderCertificate; members: MemberIdentity[] }
  /**
   * Gossip a certificate: whole when `renewalOf` is null, else as a renewal
   * delta against `renewalOf` (the certificate of that epoch gossiped last);
   * the next probes go to `probeFirst` (no extra datagrams: probes go out anyway).
   */
  | {
      type: 'broadcast';
      certificate: LeaderCertificate;
      renewalOf: LeaderCertificate | null;
      probeFirst: string[];
    }
  /** Send the whole certificate straight to one member. */
  | { type: 'send'; member: string; certificate: LeaderCertificate }
  | { type: 'log'; level: 'info' | 'warn'; event: string; fields: Record<string, unknown> };

export interface MembershipView {
  /** Alive members including this peer. */
  members: MemberIdentity[];
  /** True once this peer has joined a cluster (or given up waiting to and stands alone). */
  joined: boolean;
}
