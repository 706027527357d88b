// The checks every token signed by the attested enclave key shares (leader and
// admission certificates): strict parse, the expected typ, a kid among the
// attested keys, the RS256 signature. The token's own claims are the caller's.
import { type ParsedJws, parseJwsOr, verifyJwsSignature } from './jws.ts';
import type { RsaPublicKey } from './rsa-keys.ts';
import { VerificationError } from './verification-error.ts';

export interface AttestedJws {
  parsed: ParsedJws;
  kid: string;
  key: RsaPublicKey;
}

/** Throws `invalid(...)` for a bad token, E_CERT_UNKNOWN_KID for a key no attestation vouched for. */
export function verifyAttestedJws(
  token: string,
  typ: string,
  keys: ReadonlyMap<string, RsaPublicKey>,
  invalid: (message: string) => VerificationError,
  what: string,
): AttestedJws {
  const parsed = parseJwsOr(token, invalid);
  if (parsed.header.typ !== typ) throw invalid(`typ must be ${typ}`);
  const kid = parsed.header.kid;
  if (typeof kid !== 'string') throw invalid('kid missing');
  const key = keys.get(kid);
  if (!key) throw new VerificationError('E_CERT_UNKNOWN_KID', `${what} names key ${kid}, not attested`);
  if (!verifyJwsSignature(parsed, key)) throw invalid('signature does not verify');
  return { parsed, kid, key };
}
