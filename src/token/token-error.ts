// Why a fencing token was refused. Resource servers branch on `code`; the
// message names what was expected and what the token holds:
//   E_TOKEN_MALFORMED    not two JWS joined by `~`, or a part does not parse
//   E_TOKEN_UNTRUSTED    the attestation does not chain to the pinned root or its signature fails
//   E_TOKEN_CHECKSUM     the attested function checksum differs from the pin
//   E_TOKEN_INVALID      the certificate's signature, kid, claims or policy proof fail
//   E_TOKEN_CLUSTER      the certificate names another cluster
//   E_TOKEN_EXPIRED      the lease ended (or the attestation chain expired)
//   E_TOKEN_STALE        (epoch, seq) is older than the newest the caller has seen
import { EnclaveElectError } from '../errors.ts';

export type TokenRefusal =
  | 'E_TOKEN_MALFORMED'
  | 'E_TOKEN_UNTRUSTED'
  | 'E_TOKEN_CHECKSUM'
  | 'E_TOKEN_INVALID'
  | 'E_TOKEN_CLUSTER'
  | 'E_TOKEN_EXPIRED'
  | 'E_TOKEN_STALE';

export class TokenRefusedError extends EnclaveElectError {
  declare readonly code: TokenRefusal;

  constructor(code: TokenRefusal, message: string, options: { cause?: unknown } = {}) {
    super(code, `fencing token refused: ${message}`, options);
  }
}
