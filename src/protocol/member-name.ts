// The one rule for member names, used at every layer: the peer's config, the
// gossip codec and the enclave's requests. A name any layer accepts, every
// layer accepts; otherwise one datagram naming such a member (or one peer
// honestly named so) makes every honest elect request fail.
// The rule is a DNS label's (RFC 1123) widened by '.' and '_' (container names).
import { createHash } from '../platform/node-crypto.ts';

export const MEMBER_NAME_MAX_BYTES = 63;
export const MEMBER_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
/** The rule in words, for error messages. */
export const MEMBER_NAME_RULE = '1-63 characters of A-Z a-z 0-9 . _ -, starting with a letter or digit';

export function isMemberName(value: string): boolean {
  return MEMBER_NAME_PATTERN.test(value);
}

/** Hex digits of the hash a shortened name ends with, so distinct long hostnames stay distinct. */
const SUFFIX_HEX = 8;

/**
 * A valid member name derived from a hostname (or any text), always the same
 * for the same input: characters outside the rule become '-', a name not
 * starting with a letter or digit gets a 'p' in front, and one longer than 63
 * is cut and ends with a hash of the whole input. An empty input gives 'peer'.
 */
export function memberNameFrom(raw: string): string {
  if (isMemberName(raw)) return raw;
  let name = raw.replace(/[^A-Za-z0-9._-]/g, '-');
  if (name === '') return 'peer';
  if (!/^[A-Za-z0-9]/.test(name)) name = `p${name}`;
  if (name.length > MEMBER_NAME_MAX_BYTES) {
    const digest = createHash('sha256').update(raw).digest('hex').slice(0, SUFFIX_HEX);
    name = `${name.slice(0, MEMBER_NAME_MAX_BYTES - SUFFIX_HEX - 1)}-${digest}`;
  }
  return name;
}
