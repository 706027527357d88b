// Why a token was refused. One class for attestation and certificate checks;
// callers branch on `code`:
//   E_ATTESTATION_INVALID  attestation malformed, bad chain/signature, nonce not echoed
//   E_ENCLAVE_UNTRUSTED    attested function checksum differs from the pin
//   E_CERT_UNKNOWN_KID     certificate signed by a key no attestation vouched for
//   E_CERT_INVALID         certificate malformed, bad signature, wrong cluster/pin/choice
//   E_ADMISSION_INVALID    admission certificate malformed, bad signature, wrong cluster
//   E_ADMISSION_EXPIRED    admission certificate past its expiry (re-admission needed)
//   E_CERT_NOT_ADMITTED    valid certificate whose leader is not an admitted member with that key
import { EnclaveElectError } from '../errors.ts';

export type VerificationCode =
  | 'E_ATTESTATION_INVALID'
  | 'E_ENCLAVE_UNTRUSTED'
  | 'E_CERT_UNKNOWN_KID'
  | 'E_CERT_INVALID'
  | 'E_ADMISSION_INVALID'
  | 'E_ADMISSION_EXPIRED'
  | 'E_CERT_NOT_ADMITTED';

export class VerificationError extends EnclaveElectError {
  /** For E_ENCLAVE_UNTRUSTED: the pinned and the attested checksum. */
  readonly expected: string | undefined;
  readonly received: string | undefined;

  constructor(
    code: VerificationCode,
    message: string,
    details: { expected?: string; received?: string } = {},
  ) {
    super(code, message);
    this.expected = details.expected;
    this.received = details.received;
  }
}
