// The leader certificate: a compact JWS (RS256, `kid` = the attested enclave
// key's RFC 7638 thumbprint) over one epoch's grant. Verification checks the
// signature with an attested key, the cluster, the pinned checksum and the
// policy's choice (for `vrf`, the RFC 9381 proof). Format: docs/protocol/enclave.md.
//
// Names: `LeaderClaims` are the fields as the enclave signs them;
// a `LeaderCertificate` is a verified certificate: its compact JWS, the hash
// that identifies it, and its claims, so nobody re-verifies to read a field.
import { createHash } from '../platform/node-crypto.ts';
import { verifyAttestedJws } from './attested-jws.ts';

import { decodeBase64url } from './base64url.ts';
import { canonicalBytes } from './canonical-json.ts';
import { signJws } from './jws.ts';
import { type MemberIdentity, memberDigest, sortMembers } from './member-digest.ts';
import type { RsaPrivateKey, RsaPublicKey } from './rsa-keys.ts';
import { VerificationError } from './verification-error.ts';
import { vrfIndex, vrfVerify } from './vrf.ts';

export const CERTIFICATE_TYP = 'enclave-elect-leader+jwt';
/** The leader-choice policies (DESIGN.md §5): the one list every option and check derives from. */
export const POLICIES = ['vrf', 'highest-id', 'round-robin'] as const;
export type Policy = (typeof POLICIES)[number];
/** Verifiable, so no one (the enclave included) can bias the choice unseen. */
export const DEFAULT_POLICY: Policy = 'vrf';

export interface LeaderClaims {
  v: 1;
  cluster_id: string;
  epoch: number;
  /** Renewal sequence within the epoch: 0 when elected, +1 per renewal. */
  seq: number;
  leader: MemberIdentity;
  /** Digest of the candidates the leader was chosen from (member-digest.ts). */
  members_digest: string;
  member_count: number;
  /** Index of the leader among the candidates sorted by name. */
  leader_index: number;
  policy: Policy;
  /** RSA-FDH-VRF proof (base64url) for policy `vrf`, else null. */
  proof: string | null;
  func_checksum: string;
  kid: string;
  /** Issue time and lease end, milliseconds since the Unix epoch. */
  iat: number;
  lease_end: number;
}

/** A leader certificate that passed verifyCertificate; only verification makes one. */
export interface LeaderCertificate {
  /** The compact JWS, as the enclave signed it. */
  readonly compact: string;
  /** SHA-256 (hex) of the compact JWS: identity for caching and de-duplication. */
  readonly hash: string;
  readonly claims: LeaderClaims;
}

/** SHA-256 (hex) of a compact JWS: the key certificates are cached and compared by. */
export function certificateHash(compact: string): string {
  return createHash('sha256').update(compact).digest('hex');
}

/** The VRF input for an election: canonical JSON of cluster, epoch, digest. */
export function vrfAlpha(clusterId: string, epoch: number, membersDigest: string): Buffer {
  return canonicalBytes({ cluster_id: clusterId, epoch, members_digest: membersDigest });
}

export function signLeaderCertificate(claims: LeaderClaims, key: RsaPrivateKey): string {
  return signJws({ alg: 'RS256', typ: CERTIFICATE_TYP, kid: claims.kid }, claims, key);
}

export interface CertificateExpectations {
  /** The cluster the certificate must name; null leaves that check to the caller. */
  clusterId: string | null;
  pinnedChecksum: string;
  /** The attested enclave keys by kid. */
  keys: ReadonlyMap<string, RsaPublicKey>;
}

function invalid(message: string): VerificationError {
  return new VerificationError('E_CERT_INVALID', `leader certificate refused: ${message}`);
}

const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

function readClaims(p: Record<string, unknown>): LeaderClaims {
  const leader = p.leader as Partial<MemberIdentity> | null;
  if (p.v !== 1) throw invalid('v must be 1');
  if (typeof p.cluster_id !== 'string') throw invalid('cluster_id missing');
  if (!isCount(p.epoch) || p.epoch < 1 || !isCount(p.seq)) throw invalid('epoch/seq must be integers');
  if (!leader || typeof leader.name !== 'string' || typeof leader.key !== 'string')
    throw invalid('leader missing');
  if (typeof p.members_digest !== 'string' || !/^[0-9a-f]{64}$/.test(p.members_digest)) {
    throw invalid('members_digest missing');
  }
  if (!isCount(p.member_count) || p.member_count < 1) throw invalid('member_count must be positive');
  if (!isCount(p.leader_index) || p.leader_index >= p.member_count)
    throw invalid('leader_index out of range');
  if (!POLICIES.includes(p.policy as Policy)) throw invalid('unknown policy');
  if (p.proof !== null && typeof p.proof !== 'string') throw invalid('proof must be a string or null');
  if (typeof p.func_checksum !== 'string' || typeof p.kid !== 'string')
    throw invalid('func_checksum/kid missing');
  if (!isCount(p.iat) || !isCount(p.lease_end) || p.lease_end < p.iat) throw invalid('iat/lease_end invalid');
  return p as unknown as LeaderClaims;
}

/** Check the policy's choice: for `vrf` the proof and index, for `highest-id` the last index. */
function verifyChoice(claims: LeaderClaims, key: RsaPublicKey): void {
  if (claims.policy === 'vrf') {
    const pi = claims.proof === null ? undefined : decodeBase64url(claims.proof);
    const alpha = vrfAlpha(claims.cluster_id, claims.epoch, claims.members_digest);
    const beta = pi && vrfVerify(key, alpha, pi);
    if (!beta) throw invalid('VRF proof does not verify');
    if (vrfIndex(beta, claims.member_count) !== claims.leader_index)
      throw invalid('leader_index is not the VRF choice');
  } else if (claims.proof !== null) {
    throw invalid(`policy ${claims.policy} carries no proof`);
  } else if (claims.policy === 'highest-id' && claims.leader_index !== claims.member_count - 1) {
    throw invalid('highest-id must choose the last sorted member');
  }
}

/** Verify a leader certificate; throws VerificationError (E_CERT_UNKNOWN_KID for a key not attested). */
export function verifyCertificate(
  token: string,
  expect: CertificateExpectations,
  hash = certificateHash(token),
): LeaderCertificate {
  const { parsed, kid, key } = verifyAttestedJws(
    token,
    CERTIFICATE_TYP,
    expect.keys,
    invalid,
    'leader certificate',
  );
  const claims = readClaims(parsed.payload);
  if (claims.kid !== kid) throw invalid('kid in claims differs from header');
  if (expect.clusterId !== null && claims.cluster_id !== expect.clusterId)
    throw invalid(`cluster ${claims.cluster_id} is not ${expect.clusterId}`);
  if (claims.func_checksum !== expect.pinnedChecksum) throw invalid('func_checksum differs from the pin');
  verifyChoice(claims, key);
  return { compact: token, hash, claims };
}

/** With the candidate list in hand, check digest and that the leader sits at leader_index. */
export function certificateMatchesMembers(
  claims: LeaderClaims,
  candidates: readonly MemberIdentity[],
): boolean {
  if (candidates.length !== claims.member_count || memberDigest(candidates) !== claims.members_digest)
    return false;
  const chosen = sortMembers(candidates)[claims.leader_index];
  return chosen?.name === claims.leader.name && chosen.key === claims.leader.key;
}
