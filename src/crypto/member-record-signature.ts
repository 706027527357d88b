// Member records signed by the member's own Ed25519 key: only X's key can
// announce X alive, move X, raise X's incarnation or refute for X. The signed
// bytes are a domain tag then name, incarnation, address and key, each length-
// prefixed, so no two records share signed bytes. A record's signature is
// checked once per process: the memo recordVerdicts remembers successes by
// signature (every signed field must match too, or it checks again), and
// each peer's RecordVerifier its last refusal per member.
import type { KeyObject } from 'node:crypto';
import { bytesEqualAt, keepBytes } from '../platform/byte-slabs.ts';
import { createPublicKey, sign, verify } from '../platform/node-crypto.ts';

const DOMAIN = Buffer.from('enclave-elect/member-record/v1\0');
export const RECORD_SIGNATURE_BYTES = 64;

export interface SignableRecord {
  name: string;
  incarnation: number;
  address: string;
  /** Raw 32-byte Ed25519 public key. */
  publicKey: Uint8Array;
}

export function recordSigningBytes(record: SignableRecord): Buffer {
  const name = Buffer.from(record.name, 'utf8');
  const address = Buffer.from(record.address, 'utf8');
  // Every byte is written below: no zero fill (this runs for every record checked).
  const out = Buffer.allocUnsafe(
    DOMAIN.length + 1 + name.length + 8 + 1 + address.length + 1 + record.publicKey.length,
  );
  let at = DOMAIN.copy(out, 0);
  at = out.writeUInt8(name.length, at);
  at += name.copy(out, at);
  at = out.writeBigUInt64BE(BigInt(record.incarnation), at);
  at = out.writeUInt8(address.length, at);
  at += address.copy(out, at);
  at = out.writeUInt8(record.publicKey.length, at);
  out.set(record.publicKey, at);
  return out;
}

export function signRecord(record: SignableRecord, privateKey: KeyObject): Uint8Array {
  return new Uint8Array(sign(null, recordSigningBytes(record), privateKey));
}

/** An Ed25519 public key from its 32 raw bytes, or undefined if it is not one. */
export function ed25519FromRaw(raw: Uint8Array): KeyObject | undefined {
  if (raw.length !== 32) return undefined;
  try {
    const x = Buffer.from(raw).toString('base64url');
    return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' });
  } catch {
    return undefined;
  }
}

/** True when `signature` is the record's own key's signature over the record. */
export function verifyRecordSignature(record: SignableRecord, signature: Uint8Array): boolean {
  return verifiedRecord(record, signature) !== undefined;
}

/**
 * The record as it verified (recordVerdicts' copy, see RecordVerdictMemo.verified)
 * when `signature` is its own key's signature over it, else undefined.
 */
export function verifiedRecord(record: SignableRecord, signature: Uint8Array): VerifiedRecord | undefined {
  if (signature.length !== RECORD_SIGNATURE_BYTES) return undefined;
  const known = recordVerdicts.verified(record, signature);
  if (known) return known;
  const publicKey = keyObjectOf(record.publicKey);
  if (!publicKey) return undefined;
  try {
    return verify(null, recordSigningBytes(record), publicKey, signature)
      ? recordVerdicts.remember(record, signature)
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Records whose signature verified in this process (see verdict-memo.ts for
 * why per process), by signature. A hit needs every signed field to equal
 * the verified record's, compared as they are: the same signed bytes, so the
 * same verdict, without building those bytes and hashing them per check (in
 * a cold start of 1,000 peers in one process, that was a tenth of the CPU).
 * Only successes are kept, FIFO-bounded.
 */
export class RecordVerdictMemo {
  readonly #seen = new Map<string, VerifiedRecord>();
  readonly #capacity: number;
  hits = 0;

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  has(record: SignableRecord, signature: Uint8Array): boolean {
    return this.verified(record, signature) !== undefined;
  }

  /**
   * The record as it verified, if it did: its own copy of key and signature,
   * never a view into a datagram, so a member table may keep it as it is
   * (records are never changed in place) instead of copying both again.
   */
  verified(record: SignableRecord, signature: Uint8Array): VerifiedRecord | undefined {
    const seen = this.#seen.get(signatureId(signature));
    const hit =
      seen !== undefined &&
      seen.name === record.name &&
      seen.incarnation === record.incarnation &&
      seen.address === record.address &&
      seen.publicKey.length === record.publicKey.length &&
      bytesEqualAt(seen.publicKey, 0, record.publicKey);
    if (!hit) return undefined;
    this.hits++;
    return seen;
  }

  /** Remember a record whose signature verified; returns the copy kept. */
  remember(record: SignableRecord, signature: Uint8Array): VerifiedRecord {
    const id = signatureId(signature);
    if (!this.#seen.has(id) && this.#seen.size >= this.#capacity)
      this.#seen.delete(this.#seen.keys().next().value!);
    const { name, incarnation, address } = record;
    // The field order of a member record (gossip-codec.ts memberRecord): one hidden class.
    const kept = {
      name,
      incarnation,
      address,
      publicKey: keepBytes(record.publicKey),
      signature: keepBytes(signature),
    };
    this.#seen.set(id, kept);
    return kept;
  }

  get size(): number {
    return this.#seen.size;
  }
}

/** A signed record whose signature verified in this process. */
export interface VerifiedRecord extends SignableRecord {
  readonly signature: Uint8Array;
}

const signatureId = (signature: Uint8Array): string =>
  Buffer.from(signature.buffer, signature.byteOffset, signature.byteLength).toString('latin1');

/** Records that verified in this process. */
export const recordVerdicts = new RecordVerdictMemo(1 << 16);

/**
 * Key objects by raw key, per process (building one from its JWK costs more
 * than the check it serves): a pure function of the 32 bytes, FIFO-bounded.
 */
const keyObjects = new Map<string, KeyObject | undefined>();
const KEY_OBJECTS_MAX = 1 << 14;

function keyObjectOf(raw: Uint8Array): KeyObject | undefined {
  const id = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64url');
  if (keyObjects.has(id)) return keyObjects.get(id);
  const key = ed25519FromRaw(raw);
  if (keyObjects.size >= KEY_OBJECTS_MAX) keyObjects.delete(keyObjects.keys().next().value!);
  keyObjects.set(id, key);
  return key;
}

interface Refusal {
  incarnation: number;
  address: string;
  /** The raw key, then the signature. */
  keyAndSignature: Uint8Array;
  keyLength: number;
}

/**
 * Verify each record once. Successes are the process's memo
 * (recordVerdicts): with one peer per process that is this peer's, and where
 * peers share a process they share it, so a peer keeps no copy of every
 * member's key and signature of its own (in a cold start of 1,000 peers in
 * one process, those copies were a fifth of what the collector moved).
 * Failures are kept here, the last per member, reused while name,
 * incarnation, address, key and signature are the same: a forged record sent
 * again costs no second check. Bounded: at most `maxMembers` refusals, oldest
 * dropped.
 */
export class RecordVerifier {
  readonly #refused = new Map<string, Refusal>();
  readonly #maxMembers: number;
  /** Signature checks actually made (answered by neither the memo nor a refusal kept). */
  checks = 0;
  /** Records answered without a check. */
  hits = 0;

  constructor(maxMembers = 4096) {
    this.#maxMembers = maxMembers;
  }

  verify(record: SignableRecord, signature: Uint8Array): boolean {
    return this.verified(record, signature) !== undefined;
  }

  /** The record as it verified (shared, never a view into a datagram), or undefined if refused. */
  verified(record: SignableRecord, signature: Uint8Array): VerifiedRecord | undefined {
    const known = recordVerdicts.verified(record, signature);
    if (known) {
      this.hits++;
      return known;
    }
    const refused = this.#refused.get(record.name);
    if (
      refused &&
      refused.incarnation === record.incarnation &&
      refused.address === record.address &&
      refused.keyLength === record.publicKey.length &&
      refused.keyAndSignature.length === refused.keyLength + signature.length &&
      bytesEqualAt(refused.keyAndSignature, 0, record.publicKey) &&
      bytesEqualAt(refused.keyAndSignature, refused.keyLength, signature)
    ) {
      this.hits++;
      return undefined;
    }
    this.checks++;
    const verified = verifiedRecord(record, signature);
    this.#refused.delete(record.name);
    if (!verified) {
      if (this.#refused.size >= this.#maxMembers) this.#refused.delete(this.#refused.keys().next().value!);
      this.#refused.set(record.name, {
        incarnation: record.incarnation,
        address: record.address,
        keyAndSignature: keepBytes(record.publicKey, signature),
        keyLength: record.publicKey.length,
      });
    }
    return verified;
  }
}
