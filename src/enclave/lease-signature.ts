// Renew and resign requests are signed by the leader's own Ed25519 key (the
// key in its member entry), so only the leader can extend or give up its
// lease. The signed bytes are the canonical JSON of the request without `sig`
// plus `op`, so a renew signature cannot be replayed as a resign, and `seq`
// (renew) or the epoch change (resign) makes each signature good for one use.
import { createPublicKey, type KeyObject, sign, verify } from 'node:crypto';
import { decodeBase64url, encodeBase64url } from '../crypto/base64url.ts';
import { canonicalBytes } from '../crypto/canonical-json.ts';
import type { MemberIdentity } from '../crypto/member-digest.ts';

export type LeaseOp = 'renew' | 'resign';

export interface LeaseRequestFields {
  cluster_id: string;
  epoch: number;
  seq: number;
  leader: string;
  members?: MemberIdentity[];
}

export function leaseSigningBytes(op: LeaseOp, fields: LeaseRequestFields): Buffer {
  const { cluster_id, epoch, seq, leader, members } = fields;
  return canonicalBytes({ op, cluster_id, epoch, seq, leader, members });
}

export function signLeaseRequest(op: LeaseOp, fields: LeaseRequestFields, privateKey: KeyObject): string {
  return encodeBase64url(sign(null, leaseSigningBytes(op, fields), privateKey));
}

/** An Ed25519 public key from its member-entry form (32 raw bytes, base64url). */
export function ed25519PublicKey(key: string): KeyObject | undefined {
  const raw = decodeBase64url(key);
  if (raw?.length !== 32) return undefined;
  try {
    return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: key }, format: 'jwk' });
  } catch {
    return undefined;
  }
}

/** The member-entry form of an Ed25519 key: raw public key as base64url. */
export function memberKeyOf(privateOrPublic: KeyObject): string {
  const publicKey = privateOrPublic.type === 'private' ? createPublicKey(privateOrPublic) : privateOrPublic;
  const jwk = publicKey.export({ format: 'jwk' }) as { crv?: string; x?: string };
  if (jwk.crv !== 'Ed25519' || !jwk.x) throw new TypeError('not an Ed25519 key');
  return jwk.x;
}

export function verifyLeaseRequest(
  op: LeaseOp,
  fields: LeaseRequestFields,
  sig: string,
  memberKey: string,
): boolean {
  const key = ed25519PublicKey(memberKey);
  const signature = decodeBase64url(sig);
  if (!key || signature?.length !== 64) return false;
  try {
    return verify(null, leaseSigningBytes(op, fields), key, signature);
  } catch {
    return false;
  }
}
