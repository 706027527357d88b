// The member-set digest a leader certificate carries: SHA-256 (lowercase hex)
// over the canonical JSON array of {key, name} entries sorted by name. Names
// are ASCII (see src/enclave/requests.ts), so code-unit order is byte order.
import { createHash } from '../platform/node-crypto.ts';
import { canonicalJson } from './canonical-json.ts';

/** A member as the enclave and certificates know it: its name and admitted key. */
export interface MemberIdentity {
  name: string;
  /** Ed25519 public key, 32 raw bytes as base64url. */
  key: string;
}

export function sortMembers(members: readonly MemberIdentity[]): MemberIdentity[] {
  return [...members].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export function memberDigest(members: readonly MemberIdentity[]): string {
  const sorted = sortMembers(members).map(({ name, key }) => ({ key, name }));
  return createHash('sha256').update(canonicalJson(sorted)).digest('hex');
}
