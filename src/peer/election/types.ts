// What the election core consumes and produces. The core is pure: the peer's
// runtime shell verifies certificates, talks to the enclave, gossips and logs.

/** A leader certificate that the shell has already verified (signature, attested key, cluster, checksum). */
export interface ElectionCertificate {
  /** SHA-256 of the compact JWS: identity for caching and de-duplication. */
  hash: string;
  /** The compact JWS, as the enclave signed it. */
  compact: string;
  clusterId: string;
  epoch: number;
  /** Renewal sequence within the epoch: 0 when granted, +1 per renewal. */
  seq: number;
  leader: string;
  leaderKey: string;
  policy: string;
  /** Enclave wall-clock times (ms since the Unix epoch). */
  issuedAt: number;
  leaseEndsAt: number;
}

export interface MemberRef {
  name: string;
  publicKey: string;
}

/** Monotonic time for deadlines, wall time for logs and for the enclave's lease ends. */
export interface ElectionClock {
  monoMs(): number;
  wallMs(): number;
}

export type ReleaseReason = 'expired' | 'resigned' | 'superseded';

export type RequestKind = 'elect' | 'renew' | 'resign';

export type ElectionEffect =
  | { type: 'elect'; sentAt: number; members: MemberRef[]; knownEpoch: number; waitMs: number }
  | { type: 'renew'; sentAt: number; certificate: ElectionCertificate }
  | { type: 'resign'; sentAt: number; certificate: ElectionCertificate; members: MemberRef[] }
  | { type: 'broadcast'; certificate: ElectionCertificate }
  | { type: 'log'; level: 'info' | 'warn'; event: string; fields: Record<string, unknown> };

export interface MembershipView {
  /** Alive members including this peer. */
  members: MemberRef[];
  /** True once this peer has joined a cluster (or given up waiting to and stands alone). */
  joined: boolean;
}
