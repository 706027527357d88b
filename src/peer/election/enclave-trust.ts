// What the peer knows of its enclave's trustworthiness, for /status and the
// log: every enclave call and every certificate verification reports here.
// Only a failed (re-)attestation makes the enclave untrusted; a refused
// certificate says nothing about the enclave.
import type { AttestedEnclave } from '../../crypto/attestation.ts';
import { VerificationError } from '../../crypto/verification-error.ts';
import type { EnclaveClient } from '../../enclave/client/enclave-client.ts';
import type { ErrorCode } from '../../errors.ts';
import type { Logger } from '../../log/logger.ts';

export interface EnclaveStatus {
  url: string;
  trusted: boolean | null;
  checksum: string | null;
  pinnedChecksum: string;
  error: string | null;
}

/** Verification errors that mean the enclave itself failed attestation. */
const ATTESTATION_FAILURES = new Set<ErrorCode>(['E_ENCLAVE_UNTRUSTED', 'E_ATTESTATION_INVALID']);

export class EnclaveTrust {
  readonly #client: EnclaveClient;
  readonly #logger: Logger;
  readonly #status: EnclaveStatus;
  #attestedKid: string | undefined;
  /** The client's attestation last reported (a failed one leaves the client's in place). */
  #reported: AttestedEnclave | undefined;

  constructor(client: EnclaveClient, url: string, pinnedChecksum: string, logger: Logger) {
    this.#client = client;
    this.#logger = logger;
    this.#status = { url, trusted: null, checksum: null, pinnedChecksum, error: null };
  }

  status(): EnclaveStatus {
    return { ...this.#status };
  }

  /** An elect/renew/resign call: its success or failure speaks about the enclave. */
  async request<T>(call: () => Promise<T>): Promise<T> {
    try {
      const result = await call();
      this.#status.error = null;
      this.#report(this.#client.attested);
      return result;
    } catch (error) {
      this.#untrusted(error);
      throw error;
    }
  }

  /**
   * A gossiped certificate's verification. A follower may learn of the enclave
   * (and of a restarted enclave's new key) only this way, since an unknown kid
   * makes the client attest; only that attestation's outcome counts.
   */
  async verification<T>(call: () => Promise<T>): Promise<T> {
    try {
      const result = await call();
      // Only a new attestation: a certificate verified under a key attested before
      // an attestation failure does not make the enclave trusted again.
      if (this.#client.attested !== this.#reported) this.#report(this.#client.attested);
      return result;
    } catch (error) {
      if (error instanceof VerificationError && ATTESTATION_FAILURES.has(error.code)) this.#untrusted(error);
      throw error;
    }
  }

  /** Report (and log once per key) an attestation the client holds. */
  #report(attested: AttestedEnclave | undefined): void {
    this.#reported = attested;
    if (!attested || attested.kid === this.#attestedKid) return;
    this.#attestedKid = attested.kid;
    this.#status.trusted = true;
    this.#status.checksum = attested.checksum;
    this.#logger.info({
      event: 'enclave.attested',
      url: this.#status.url,
      kid: attested.kid,
      checksum: attested.checksum,
    });
  }

  #untrusted(error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    this.#status.error = message;
    if (!(error instanceof VerificationError) || !ATTESTATION_FAILURES.has(error.code)) return;
    const changed = this.#status.trusted !== false;
    this.#status.trusted = false;
    this.#attestedKid = undefined;
    if (error.received) this.#status.checksum = error.received;
    if (changed) {
      this.#logger.error({
        event: 'enclave.untrusted',
        url: this.#status.url,
        code: error.code,
        expected: error.expected ?? this.#status.pinnedChecksum,
        received: error.received ?? null,
        error: message,
      });
    }
  }
}
