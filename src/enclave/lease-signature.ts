// Elect, renew and resign requests are signed by the requester's own Ed25519
// key (the key its admission names), so nobody can ask for, extend or give up
// a lease in another member's name. The signed bytes are the canonical JSON of
// the request without `sig` plus `op`, so a signature made for one operation is
// worthless for another, and `ts` + `nonce` bind it to one fresh use (see
// replay-guard.ts). Format: docs/protocol/enclave.md.
import type { KeyObject } from 'node:crypto';
import { decodeBase64url, encodeBase64url } from '../crypto/base64url.ts';
import { canonicalBytes } from '../crypto/canonical-json.ts';
import { createPublicKey, sign, verify } from '../platform/node-crypto.ts';

export type RequestOp = 'elect' | 'renew' | 'resign';
/** The operations a leader signs over its lease. */
export type LeaseOp = Exclude<RequestOp, 'elect'>;

/** Freshness fields every signed request carries. */
export interface Freshness {
  /** Requester's wall clock, ms since the Unix epoch. */
  ts: number;
  /** 16 random bytes, lowercase hex: never used twice. */
  nonce: string;
}

export interface ElectRequestFields extends Freshness {
  cluster_id: string;
  known_epoch: number;
  wait_ms: number;
  /** The requester: its admitted name and Ed25519 key; it stands as a candidate. */
  name: string;
  key: string;
}

export interface LeaseRequestFields extends Freshness {
  cluster_id: string;
  epoch: number;
  seq: number;
  leader: string;
}

type SignedFields = { elect: ElectRequestFields; renew: LeaseRequestFields; resign: LeaseRequestFields };

export function requestSigningBytes<Op extends RequestOp>(op: Op, fields: SignedFields[Op]): Buffer {
  // Only the documented fields are signed (a parsed request may carry `sig`).
  const { sig: _sig, ...rest } = fields as SignedFields[Op] & { sig?: string };
  return canonicalBytes({ ...rest, op });
}

export function signRequest<Op extends RequestOp>(
  op: Op,
  fields: SignedFields[Op],
  privateKey: KeyObject,
): string {
  return encodeBase64url(sign(null, requestSigningBytes(op, fields), privateKey));
}

/** A complete elect request body: the requester's candidacy, signed with its key. */
export function signedElectBody(
  fields: Omit<ElectRequestFields, 'key'>,
  privateKey: KeyObject,
): ElectRequestFields & { sig: string } {
  const signed = { ...fields, key: memberKeyOf(privateKey) };
  return { ...signed, sig: signRequest('elect', signed, privateKey) };
}

/** Kept for callers that sign lease operations. */
export function signLeaseRequest(op: LeaseOp, fields: LeaseRequestFields, privateKey: KeyObject): string {
  return signRequest(op, fields, privateKey);
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

export function verifyRequest<Op extends RequestOp>(
  op: Op,
  fields: SignedFields[Op],
  sig: string,
  memberKey: string,
): boolean {
  const key = ed25519PublicKey(memberKey);
  const signature = decodeBase64url(sig);
  if (!key || signature?.length !== 64) return false;
  try {
    return verify(null, requestSigningBytes(op, fields), key, signature);
  } catch {
    return false;
  }
}
