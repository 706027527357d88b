// The fencing token: the enclave-signed leader certificate and the attestation
// document that vouches for the certificate's key, joined by `~`
// (`<certificate JWS>~<attestation JWS>`). Both are compact JWS, so the token
// is URL- and header-safe, and a JOSE library takes either part as it is.
// Order is (epoch, seq). Format: docs/protocol/token.md.
import { TokenRefusedError } from './token-error.ts';

export const TOKEN_SEPARATOR = '~';
/** Two JWS of at most 64 KiB each, and the separator. */
export const MAX_TOKEN_LENGTH = 2 * 64 * 1024 + 1;

export interface FencingTokenParts {
  certificate: string;
  attestation: string;
}

export function encodeFencingToken(parts: FencingTokenParts): string {
  return `${parts.certificate}${TOKEN_SEPARATOR}${parts.attestation}`;
}

export function splitFencingToken(token: unknown): FencingTokenParts {
  if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_LENGTH) {
    throw new TokenRefusedError('E_TOKEN_MALFORMED', 'not a string of 1 byte to 128 KiB');
  }
  const parts = token.trim().split(TOKEN_SEPARATOR);
  if (parts.length !== 2 || parts[0] === '' || parts[1] === '') {
    throw new TokenRefusedError(
      'E_TOKEN_MALFORMED',
      `expected <certificate>${TOKEN_SEPARATOR}<attestation>, found ${parts.length} part(s)`,
    );
  }
  return { certificate: parts[0]!, attestation: parts[1]! };
}

export interface TokenOrder {
  epoch: number;
  seq: number;
}

/** Negative when a is older than b, 0 when equal, positive when newer: (epoch, seq) order. */
export function compareTokenOrder(a: TokenOrder, b: TokenOrder): number {
  return a.epoch !== b.epoch ? a.epoch - b.epoch : a.seq - b.seq;
}
