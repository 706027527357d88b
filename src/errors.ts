// Coded errors for the whole project. Callers match on `code`, never on the
// message; messages say what was wrong and what to do about it.
// ERROR_CODES is the closed list of codes; docs/errors.md documents each one
// (where it comes from, what to do, exit status), and a unit test keeps the two equal.

/** Every error code, with its one-line meaning. Add a code here and in docs/errors.md. */
export const ERROR_CODES = {
  // CLI and configuration
  E_USAGE: 'a bad flag, option or argument',
  E_CONFIG: 'an invalid setting (flag, environment variable or PKI directory)',
  E_UNSUPPORTED: 'the command does not act on this kind of cluster',
  E_CHAOS: 'a chaos run failed for a reason without its own code',
  E_HEALTHCHECK: 'a health endpoint did not answer 2xx',
  // Docker and the orchestrator
  E_DOCKER_UNAVAILABLE: 'the Docker engine does not answer',
  E_DOCKER: 'the Docker engine refused an operation',
  E_IMAGE_MISSING: 'the image to run is not present',
  E_IMAGE_BUILD: 'building the image failed',
  E_FAULT_HELPER:
    'a fault helper container (network, clock or CPU fault) could not be built, started or cleared',
  E_PKI: 'the one-shot PKI step of a cluster failed',
  E_NOT_FOUND: 'no such cluster, container, peer, file or route',
  E_CONFLICT: 'something with that name already exists',
  E_STATE: 'a container is not in a state the fault needs',
  E_UNPROVEN: 'a partition or heal could not be proven by probes',
  E_NOT_STEADY: 'the cluster did not agree on a leader before a chaos run',
  E_TIMEOUT: 'a wait or request ran out of time',
  E_INTERRUPTED: 'a wait was stopped before it ended',
  // Local processes and the peer
  E_NOT_STARTED: 'a local cluster was used before it was started',
  E_START_FAILED: 'a local process exited while starting',
  E_BIND: 'a socket could not bind its address and port',
  E_PAYLOAD_TOO_LARGE: 'a gossip broadcast does not fit in one datagram',
  E_WIRE_FORMAT: 'a gossip datagram does not decode',
  E_ENCLAVE_REQUEST: 'an enclave request failed without a code of its own',
  // Tokens: attestation documents and leader certificates
  E_JWS_FORMAT: 'a token is not a well-formed compact JWS',
  E_X509_CHAIN: 'an x5c certificate chain does not lead to the pinned root',
  E_ATTESTATION_INVALID: 'an attestation document was refused',
  E_ENCLAVE_UNTRUSTED: 'the attested function checksum differs from the pin',
  E_CERT_UNKNOWN_KID: 'a leader certificate is signed by a key no attestation vouched for',
  E_CERT_INVALID: 'a leader certificate was refused',
  // Fencing tokens, as a resource server verifies them (src/token/)
  E_TOKEN_MALFORMED: 'a fencing token is not a certificate and an attestation joined by ~',
  E_TOKEN_UNTRUSTED: "a fencing token's attestation does not chain to the pinned root or does not verify",
  E_TOKEN_CHECKSUM: "a fencing token's attestation vouches for another function checksum than the pin",
  E_TOKEN_INVALID: "a fencing token's certificate is not signed by the attested key or is malformed",
  E_TOKEN_CLUSTER: 'a fencing token names another cluster',
  E_TOKEN_EXPIRED: "a fencing token's lease has ended",
  E_TOKEN_STALE: 'a fencing token is older than the newest the verifier has accepted',
  E_NOT_ACTING_LEADER: 'this peer does not act as leader, so it has no fencing token to give',
  E_ENTRY_INVALID: 'a ledger append carries no entry, or one over the size limit',
  E_ADMISSION_INVALID: 'an admission certificate was refused',
  E_ADMISSION_EXPIRED: 'an admission certificate is past its expiry',
  E_CERT_NOT_ADMITTED: 'a valid leader certificate names a leader not admitted with that key',
  // The enclave client
  E_ENCLAVE_UNREACHABLE: 'the enclave does not answer',
  E_ENCLAVE_PROTOCOL: 'the enclave answered outside its protocol',
  E_ENCLAVE_ERROR: 'the enclave refused with no code, or a code this version does not know',
  // The enclave service: its function and its state
  E_FUNCTION_INVALID: 'the leader-choice function bundle does not load',
  E_FUNCTION_FAILED: 'the leader-choice function threw or returned no valid index',
  E_STATE_TAMPERED: "the enclave's state file does not verify",
  E_STATE_ROLLBACK: "the enclave's state is older than one it already wrote",
  E_STATE_CLUSTER_MISMATCH: "the enclave's state belongs to another cluster",
  E_PERSIST_FAILED: 'the enclave could not persist its state',
  E_SHUTTING_DOWN: 'the enclave is stopping',
  E_INTERNAL: 'an unexpected enclave failure',
  // The enclave service: refused requests
  E_BAD_JSON: 'the request body is not JSON',
  E_BAD_REQUEST: 'a request field has the wrong type, bound or encoding',
  E_UNKNOWN_FIELD: 'a request holds a field not in its schema',
  E_BAD_NONCE: 'an attestation nonce is not 16 to 64 bytes of lowercase hex',
  E_NOT_LEADER: "a renew or resign names another member than the lease's leader",
  E_BAD_SIGNATURE: 'a request is not signed by the key it must be signed with',
  E_UNSIGNED: 'an elect, renew or resign carries no signature',
  E_MAX_TERM: "the leader has held its epoch for the enclave's maximum term",
  E_METHOD_NOT_ALLOWED: 'the route takes another HTTP method',
  E_BODY_TOO_LARGE: 'the request body is over the limit',
  E_UNSUPPORTED_MEDIA_TYPE: 'the request body is not application/json',
  E_CLUSTER_MISMATCH: 'the request names another cluster',
  E_STALE_EPOCH: 'the request names an epoch that is not current',
  E_STALE_SEQUENCE: "the request names a sequence that is not the lease's current one",
  E_LEASE_ENDED: 'the lease was resigned',
  E_LEASE_INHERITED: 'the lease was granted before the enclave restarted',
  // The enclave service: admission (docs/security.md)
  E_ADMISSION_DISABLED: 'the enclave was started without a join secret',
  E_NOT_ADMITTED: 'the requester is not admitted (no join secret proven, or no live admission with that key)',
  E_STALE_REQUEST: "a signed request's time is too far from the enclave's clock",
  E_REPLAYED: 'a signed request was used before',
  E_ADDRESS_BOUND: 'the source address already holds another live admitted identity',
  E_NAME_HELD: 'the name is admitted with another key at another address',
} as const satisfies Record<`E_${string}`, string>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** Whether a string (say, a code in an enclave's JSON answer) is one of ours. */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CODES, value);
}

export class EnclaveElectError extends Error {
  readonly code: ErrorCode;
  /** Exit status a CLI should end with when this error reaches the top. */
  readonly exitCode: number;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; exitCode?: number } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.exitCode = options.exitCode ?? 1;
  }
}

/** A bad flag, option or argument: exit status 2. */
export class UsageError extends EnclaveElectError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('E_USAGE', message, { ...options, exitCode: 2 });
  }
}

/** An invalid setting (flag or environment variable) detected when validating config. */
export class ConfigError extends EnclaveElectError {
  readonly option: string;
  constructor(option: string, message: string) {
    super('E_CONFIG', `invalid ${option}: ${message}`, { exitCode: 2 });
    this.option = option;
  }
}

export function isCoded(error: unknown, code: ErrorCode): error is EnclaveElectError {
  return error instanceof EnclaveElectError && error.code === code;
}
