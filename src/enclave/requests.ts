// Request bodies of the enclave's POST endpoints, validated strictly: exact
// field sets (unknown fields refused), types, bounds, member limits, unique
// names. A refusal is a RequestError with an HTTP status and a stable code;
// nothing is changed. Schemas: docs/protocol/enclave.md.
import { BASE64URL_32_BYTES, decodeBase64url } from '../crypto/base64url.ts';
import { EnclaveElectError, type ErrorCode } from '../errors.ts';
import { MEMBER_NAME_PATTERN, MEMBER_NAME_RULE } from '../protocol/member-name.ts';
import type { ElectRequestFields, LeaseRequestFields } from './lease-signature.ts';

export const MAX_MEMBERS = 1024;
export const MAX_BODY_BYTES = 256 * 1024;
/** known_epoch bound: leaves room for epochs to grow and stay safe integers. */
export const MAX_KNOWN_EPOCH = 2 ** 48;
// The same rule as gossip's: a name a peer can hold, the enclave accepts.
const NAME = MEMBER_NAME_PATTERN;
const CLUSTER = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

export class RequestError extends EnclaveElectError {
  readonly status: number;
  constructor(status: number, code: ErrorCode, message: string) {
    super(code, message);
    this.status = status;
  }
}

const bad = (message: string) => new RequestError(400, 'E_BAD_REQUEST', message);

/** An elect request: a signed candidacy by its requester (lease-signature.ts). */
export interface ElectRequest extends ElectRequestFields {
  sig: string;
}

export interface RenewRequest extends LeaseRequestFields {
  sig: string;
}

/** Resign carries no member list: the enclave elects the successor from its own candidates. */
export type ResignRequest = RenewRequest;

type Body = Record<string, unknown>;

function object(value: unknown, what: string, allowed: readonly string[], required: readonly string[]): Body {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw bad(`${what} must be a JSON object`);
  const unknown = Object.keys(value).filter((key) => !allowed.includes(key));
  if (unknown.length > 0) {
    throw new RequestError(
      400,
      'E_UNKNOWN_FIELD',
      `${what} has unknown field(s): ${unknown.slice(0, 5).join(', ')}`,
    );
  }
  const missing = required.filter((key) => !(key in value));
  if (missing.length > 0) throw bad(`${what} lacks field(s): ${missing.join(', ')}`);
  return value as Body;
}

function integer(body: Body, field: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const value = body[field];
  if (!Number.isSafeInteger(value) || (value as number) < min || (value as number) > max) {
    throw bad(`${field} must be an integer from ${min} to ${max}`);
  }
  return value as number;
}

function text(body: Body, field: string, pattern: RegExp, hint: string): string {
  const value = body[field];
  if (typeof value !== 'string' || !pattern.test(value)) throw bad(`${field} must be ${hint}`);
  return value;
}

const NAME_HINT = MEMBER_NAME_RULE;

export function isEd25519Key(key: string): boolean {
  return decodeBase64url(key)?.length === 32;
}

const SIG = /^[A-Za-z0-9_-]{86}$/;
const NONCE = /^[0-9a-f]{32}$/;

/**
 * Every elect, renew and resign must be signed: an unsigned body (such as the
 * first version's, which named any member list) is refused as unauthenticated
 * before anything else is read from it.
 */
function signedObject(
  value: unknown,
  what: string,
  allowed: readonly string[],
  required: readonly string[],
): Body {
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && !('sig' in value)) {
    throw new RequestError(401, 'E_UNSIGNED', `${what} must be signed by an admitted member (field sig)`);
  }
  return object(value, what, allowed, required);
}

function freshness(body: Body): { ts: number; nonce: string; sig: string } {
  return {
    ts: integer(body, 'ts', 0),
    nonce: text(body, 'nonce', NONCE, '16 random bytes as lowercase hex'),
    sig: text(body, 'sig', SIG, 'an Ed25519 signature, base64url without padding'),
  };
}

const ELECT_FIELDS = ['cluster_id', 'known_epoch', 'wait_ms', 'name', 'key', 'ts', 'nonce', 'sig'] as const;

export function parseElectRequest(value: unknown, maxWaitMs: number): ElectRequest {
  const body = signedObject(value, 'elect request', ELECT_FIELDS, [
    'cluster_id',
    'name',
    'key',
    'ts',
    'nonce',
    'sig',
  ]);
  const key = body.key;
  if (typeof key !== 'string' || !isEd25519Key(key)) {
    throw bad('key must be an Ed25519 public key: 32 bytes, base64url without padding');
  }
  return {
    cluster_id: text(body, 'cluster_id', CLUSTER, 'a cluster id'),
    known_epoch: body.known_epoch === undefined ? 0 : integer(body, 'known_epoch', 0, MAX_KNOWN_EPOCH),
    wait_ms: body.wait_ms === undefined ? 0 : integer(body, 'wait_ms', 0, maxWaitMs),
    name: text(body, 'name', NAME, NAME_HINT),
    key,
    ...freshness(body),
  };
}

const LEASE_FIELDS = ['cluster_id', 'epoch', 'seq', 'leader', 'ts', 'nonce', 'sig'] as const;

function parseLeaseRequest(value: unknown, what: string): RenewRequest {
  const body = signedObject(value, what, LEASE_FIELDS, LEASE_FIELDS);
  return {
    cluster_id: text(body, 'cluster_id', CLUSTER, 'a cluster id'),
    epoch: integer(body, 'epoch', 1),
    seq: integer(body, 'seq', 0),
    leader: text(body, 'leader', NAME, NAME_HINT),
    ...freshness(body),
  };
}

export function parseRenewRequest(value: unknown): RenewRequest {
  return parseLeaseRequest(value, 'renew request');
}

export function parseResignRequest(value: unknown): ResignRequest {
  return parseLeaseRequest(value, 'resign request');
}

export interface AdmitRequest {
  cluster_id: string;
  name: string;
  key: string;
  ts: number;
  nonce: string;
  mac: string;
  sig: string;
}

const ADMIT_FIELDS = ['cluster_id', 'name', 'key', 'ts', 'nonce', 'mac', 'sig'] as const;

export function parseAdmitRequest(value: unknown): AdmitRequest {
  const body = object(value, 'admit request', ADMIT_FIELDS, ADMIT_FIELDS);
  const key = body.key;
  if (typeof key !== 'string' || !isEd25519Key(key)) {
    throw bad('key must be an Ed25519 public key: 32 bytes, base64url without padding');
  }
  return {
    cluster_id: text(body, 'cluster_id', CLUSTER, 'a cluster id'),
    name: text(body, 'name', NAME, NAME_HINT),
    key,
    ts: integer(body, 'ts', 0),
    nonce: text(body, 'nonce', /^[0-9a-f]{32}$/, '16 random bytes as lowercase hex'),
    mac: text(body, 'mac', BASE64URL_32_BYTES, 'an HMAC-SHA256, base64url without padding'),
    sig: text(body, 'sig', SIG, 'an Ed25519 signature, base64url without padding'),
  };
}
