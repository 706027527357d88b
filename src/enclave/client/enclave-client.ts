// What a peer uses to talk to the enclave. Before anything else it attests:
// a fresh 32-byte nonce from the CSPRNG, the chain to the pinned root, the JWS
// signature, the nonce echoed, the checksum equal to the pin. Until that
// passes it sends no elect/renew/resign. Certificates are verified against the
// attested keys (cached by hash); an unknown kid triggers one re-attestation.
import type { KeyObject } from 'node:crypto';
import { type VerifiedAdmission, verifyAdmission } from '../../crypto/admission-certificate.ts';
import { type AttestedEnclave, verifyAttestation } from '../../crypto/attestation.ts';
import { CertificateVerifier } from '../../crypto/certificate-cache.ts';
import { certificateMatchesMembers, type LeaderCertificate } from '../../crypto/leader-certificate.ts';
import type { MemberIdentity } from '../../crypto/member-digest.ts';
import type { RsaPublicKey } from '../../crypto/rsa-keys.ts';
import { VerificationError } from '../../crypto/verification-error.ts';
import type { Certificate } from '../../crypto/x509.ts';
import { EnclaveElectError, isErrorCode } from '../../errors.ts';
import { randomBytes as cryptoRandomBytes } from '../../platform/node-crypto.ts';
import { type Clock, systemClock } from '../../time/clock.ts';
import { signAdmissionRequest } from '../admission-proof.ts';
import { type LeaseOp, memberKeyOf, signedElectBody, signRequest } from '../lease-signature.ts';

export const NONCE_BYTES = 32;

export interface EnclaveClientOptions {
  /** Base URL of the enclave, e.g. http://enclave:8000 */
  url: string;
  /** The pinned mock attestation root. */
  root: Certificate;
  pinnedChecksum: string;
  clusterId: string;
  /** Per-request timeout (elect adds its wait). Default 3000. */
  timeoutMs?: number;
  /** Timeout of an attestation, which is rare and may queue behind others' at start. Default 5000. */
  attestTimeoutMs?: number;
  /** Wall time checks the attestation's validity; monotonic time throttles re-attestation. */
  clock?: Clock;
  randomBytes?: (size: number) => Buffer;
  /** How requests reach the enclave: HTTP by default; a test may answer in-process. */
  fetch?: typeof fetch;
  /** Test-only: accept enclave keys below 2048 bits. */
  minKeyBits?: number;
  /**
   * At most one re-attestation per this interval is triggered by certificates
   * naming an unknown kid, so a flood of forged certificates cannot turn into a
   * flood of attestation requests. Default 1000.
   */
  reattestIntervalMs?: number;
  /** Told of every request and certificate verification (the peer's metrics). */
  observer?: EnclaveClientObserver;
}

export type EnclaveOperation = 'attest' | 'elect' | 'renew' | 'resign';

export interface EnclaveClientObserver {
  /** outcome: ok, refused (the enclave said no), timeout, unreachable, unverified (its answer failed verification), error. */
  enclaveRequest(operation: EnclaveOperation, outcome: string, seconds: number): void;
  certificateVerified(result: 'valid' | 'invalid' | 'unknown_kid', cached: boolean): void;
}

const NO_OBSERVER: EnclaveClientObserver = { enclaveRequest: () => {}, certificateVerified: () => {} };

function requestOutcome(error: unknown): string {
  if (error instanceof EnclaveRequestError) return 'refused';
  if (error instanceof VerificationError) return 'unverified';
  const code = (error as { code?: unknown }).code;
  if (code === 'E_TIMEOUT') return 'timeout';
  if (code === 'E_ENCLAVE_UNREACHABLE') return 'unreachable';
  return 'error';
}

/**
 * The enclave answered with a coded error. A code this version does not know
 * (a newer enclave's) becomes E_ENCLAVE_ERROR; the message keeps it as sent.
 */
export class EnclaveRequestError extends EnclaveElectError {
  readonly status: number;
  /** When the refusal may no longer hold (admission: the holder's expiry), ms since the epoch. */
  readonly retryAt: number | undefined;
  constructor(status: number, code: string, message: string, retryAt?: number) {
    super(isErrorCode(code) ? code : 'E_ENCLAVE_ERROR', `enclave refused (${status} ${code}): ${message}`);
    this.status = status;
    this.retryAt = retryAt;
  }
}

export interface AdmitInput {
  name: string;
  /** The member's Ed25519 private key: the key admitted, and the proof of holding it. */
  signer: KeyObject;
  /** The cluster join secret (never sent; an HMAC proves it). */
  joinSecret: Uint8Array;
}

export interface Admitted extends VerifiedAdmission {
  token: string;
}

/** A verified certificate with the candidates the enclave answered beside it, checked against it (null if not sent). */
export interface LeaseAnswer extends LeaderCertificate {
  readonly candidates: MemberIdentity[] | null;
}

interface LeaseReply {
  token: string;
  candidates: MemberIdentity[] | null;
}

export interface LeaseAction {
  /** The certificate whose lease is renewed or resigned, as the leader holds it. */
  certificate: LeaderCertificate;
  /** The leader's Ed25519 private key. */
  signer: KeyObject;
}

export class EnclaveClient {
  readonly #options: Required<Omit<EnclaveClientOptions, 'minKeyBits' | 'observer'>> & {
    minKeyBits?: number;
  };
  readonly #observer: EnclaveClientObserver;
  readonly #keys = new Map<string, RsaPublicKey>();
  /** The attested admission keys (Ed25519) by their id: kept across enclave restarts, as #keys. */
  readonly #admissionKeys = new Map<string, KeyObject>();
  /** The attestation document that vouched for each key: a fencing token's evidence. */
  readonly #evidence = new Map<string, string>();
  readonly #verifier: CertificateVerifier;
  #attested: AttestedEnclave | undefined;
  #attesting: Promise<AttestedEnclave> | undefined;
  #attestedAt = Number.NEGATIVE_INFINITY;

  constructor(options: EnclaveClientOptions) {
    this.#options = {
      timeoutMs: 3000,
      reattestIntervalMs: 1000,
      clock: systemClock,
      fetch: (input, init) => fetch(input, init),
      randomBytes: cryptoRandomBytes,
      ...options,
      attestTimeoutMs: options.attestTimeoutMs ?? Math.max(5000, options.timeoutMs ?? 0),
      url: options.url.replace(/\/+$/, ''),
    };
    this.#observer = options.observer ?? NO_OBSERVER;
    this.#verifier = new CertificateVerifier({
      clusterId: options.clusterId,
      pinnedChecksum: options.pinnedChecksum,
      keys: this.#keys,
    });
  }

  get attested(): AttestedEnclave | undefined {
    return this.#attested;
  }

  /** The verified attestation document that vouched for key `kid`, if any did. */
  attestationFor(kid: string): string | undefined {
    return this.#evidence.get(kid);
  }

  get verifier(): CertificateVerifier {
    return this.#verifier;
  }

  /**
   * Fetch and check a fresh attestation; concurrent callers share one. A failed
   * one forgets the previous attestation: whatever answers at the URL now (say a
   * tampered enclave that replaced the attested one) gets nothing but attestation
   * requests until one passes.
   */
  attest(): Promise<AttestedEnclave> {
    this.#attesting ??= this.#observed('attest', () => this.#attestOnce())
      .catch((error: unknown) => {
        this.#attested = undefined;
        throw error;
      })
      .finally(() => {
        this.#attesting = undefined;
      });
    return this.#attesting;
  }

  async #attestOnce(): Promise<AttestedEnclave> {
    const nonce = this.#options.randomBytes(NONCE_BYTES).toString('hex');
    const response = await this.#request(
      'GET',
      `/v1/attestation?nonce=${nonce}`,
      undefined,
      this.#options.attestTimeoutMs,
    );
    const token = await response.text();
    const attested = verifyAttestation(token.trim(), {
      root: this.#options.root,
      nonce,
      pinnedChecksum: this.#options.pinnedChecksum,
      now: new Date(this.#options.clock.wallNow()),
      ...(this.#options.minKeyBits === undefined ? {} : { minKeyBits: this.#options.minKeyBits }),
    });
    this.#keys.set(attested.kid, attested.publicKey);
    // Trust exactly the admission keys the enclave vouches for now: an earlier
    // run's key leaves once no admission it signed can still stand (the map is
    // shared live with the admission book, so it is updated, not replaced).
    const vouched = new Map([
      [attested.admissionKid, attested.admissionKey],
      ...attested.retiredAdmissionKeys,
    ]);
    for (const kid of [...this.#admissionKeys.keys()]) if (!vouched.has(kid)) this.#admissionKeys.delete(kid);
    for (const [kid, key] of vouched) this.#admissionKeys.set(kid, key);
    this.#evidence.set(attested.kid, attested.token);
    this.#attested = attested;
    this.#attestedAt = this.#options.clock.now();
    return attested;
  }

  async #ensureAttested(): Promise<void> {
    if (!this.#attested) await this.attest();
  }

  /**
   * Verify a certificate (e.g. from gossip); on an unknown kid re-attest once,
   * at most once per `reattestIntervalMs`.
   */
  verifyCertificate(token: string): Promise<LeaderCertificate> {
    return this.#verify(token, true);
  }

  async #verify(token: string, throttled: boolean): Promise<LeaderCertificate> {
    try {
      return this.#verifyObserved(token);
    } catch (error) {
      if (!(error instanceof VerificationError) || error.code !== 'E_CERT_UNKNOWN_KID') throw error;
      if (throttled && this.#options.clock.now() - this.#attestedAt < this.#options.reattestIntervalMs)
        throw error;
    }
    await this.attest();
    return this.#verifyObserved(token);
  }

  #verifyObserved(token: string): LeaderCertificate {
    const hits = this.#verifier.hits;
    try {
      const certificate = this.#verifier.verify(token);
      this.#observer.certificateVerified('valid', this.#verifier.hits > hits);
      return certificate;
    } catch (error) {
      if (error instanceof VerificationError) {
        const result = error.code === 'E_CERT_UNKNOWN_KID' ? 'unknown_kid' : 'invalid';
        this.#observer.certificateVerified(result, this.#verifier.hits > hits);
      }
      throw error;
    }
  }

  /** Time a request (its verification included) and report its outcome. */
  async #observed<T>(operation: EnclaveOperation, call: () => Promise<T>): Promise<T> {
    const started = this.#options.clock.now();
    try {
      const result = await call();
      this.#observer.enclaveRequest(operation, 'ok', (this.#options.clock.now() - started) / 1000);
      return result;
    } catch (error) {
      this.#observer.enclaveRequest(
        operation,
        requestOutcome(error),
        (this.#options.clock.now() - started) / 1000,
      );
      throw error;
    }
  }

  /**
   * Ask the attested enclave to admit this member's key under its name. The
   * answer is checked like any peer would check it, and must name this member
   * and key.
   */
  async admit(input: AdmitInput): Promise<Admitted> {
    await this.#ensureAttested();
    const key = memberKeyOf(input.signer);
    const body = signAdmissionRequest(
      {
        cluster_id: this.#options.clusterId,
        name: input.name,
        key,
        ts: this.#options.clock.wallNow(),
        nonce: this.#options.randomBytes(16).toString('hex'),
      },
      input.joinSecret,
      input.signer,
    );
    const response = await this.#request('POST', '/v1/admit', body, this.#options.timeoutMs);
    const reply = (await response.json()) as { admission?: unknown };
    if (typeof reply.admission !== 'string') {
      throw new EnclaveElectError('E_ENCLAVE_PROTOCOL', '/v1/admit answered without an admission');
    }
    const verified = await this.#verifyAdmission(reply.admission, false);
    if (verified.claims.name !== input.name || verified.claims.key !== key) {
      throw new EnclaveElectError('E_ENCLAVE_PROTOCOL', '/v1/admit answered an admission for someone else');
    }
    return { token: reply.admission, ...verified };
  }

  /** Verify another member's admission (e.g. from gossip); an unknown kid re-attests, throttled. */
  verifyAdmission(token: string): Promise<VerifiedAdmission> {
    return this.#verifyAdmission(token, true);
  }

  async #verifyAdmission(token: string, throttled: boolean): Promise<VerifiedAdmission> {
    const expect = () => ({
      clusterId: this.#options.clusterId,
      keys: this.#admissionKeys,
      now: this.#options.clock.wallNow(),
    });
    try {
      return verifyAdmission(token, expect());
    } catch (error) {
      if (!(error instanceof VerificationError) || error.code !== 'E_CERT_UNKNOWN_KID') throw error;
      if (throttled && this.#options.clock.now() - this.#attestedAt < this.#options.reattestIntervalMs)
        throw error;
    }
    await this.attest();
    return verifyAdmission(token, expect());
  }

  /** The attested enclave keys by kid (grows as the enclave restarts and is re-attested). */
  get attestedKeys(): ReadonlyMap<string, RsaPublicKey> {
    return this.#keys;
  }

  /** The attested admission keys by kid (grows as the enclave restarts and is re-attested). */
  get admissionKeys(): ReadonlyMap<string, KeyObject> {
    return this.#admissionKeys;
  }

  /**
   * Stand as a candidate and get the current certificate: the request is
   * signed by this member's key, and the enclave answers the live lease or
   * (after holding the request up to `waitMs` for it to end) the next one,
   * chosen from the candidates the enclave itself heard from.
   */
  async elect(input: {
    name: string;
    signer: KeyObject;
    knownEpoch?: number;
    waitMs?: number;
  }): Promise<LeaseAnswer> {
    const waitMs = input.waitMs ?? 0;
    const body = signedElectBody(
      {
        cluster_id: this.#options.clusterId,
        known_epoch: input.knownEpoch ?? 0,
        wait_ms: waitMs,
        name: input.name,
        ...this.#freshness(),
      },
      input.signer,
    );
    await this.#ensureAttested(); // timed on its own, as 'attest'
    return this.#observed('elect', async () =>
      this.#verified(await this.#post('/v1/elect', body, this.#options.timeoutMs + waitMs), '/v1/elect'),
    );
  }

  async renew(action: LeaseAction): Promise<LeaseAnswer> {
    await this.#ensureAttested();
    return this.#observed('renew', async () => {
      const token = await this.#post('/v1/renew', this.#signed('renew', action), this.#options.timeoutMs);
      return this.#verified(token, '/v1/renew');
    });
  }

  /** Give up the lease; the enclave elects a successor from its own candidates. Null when nobody is left. */
  async resign(action: LeaseAction): Promise<LeaseAnswer | null> {
    await this.#ensureAttested();
    return this.#observed('resign', async () => {
      const token = await this.#post('/v1/resign', this.#signed('resign', action), this.#options.timeoutMs);
      return token === null ? null : this.#verified(token, '/v1/resign');
    });
  }

  #freshness(): { ts: number; nonce: string } {
    return { ts: this.#options.clock.wallNow(), nonce: this.#options.randomBytes(16).toString('hex') };
  }

  #signed(op: LeaseOp, action: LeaseAction) {
    const fields = {
      cluster_id: this.#options.clusterId,
      epoch: action.certificate.claims.epoch,
      seq: action.certificate.claims.seq,
      leader: action.certificate.claims.leader.name,
      ...this.#freshness(),
    };
    return { ...fields, sig: signRequest(op, fields, action.signer) };
  }

  /** POST after attestation; the certificate the enclave answered (null when it granted none). */
  async #post(path: string, body: object, timeoutMs: number): Promise<LeaseReply | null> {
    await this.#ensureAttested();
    const response = await this.#request('POST', path, body, timeoutMs);
    const reply = (await response.json()) as { certificate?: unknown; candidates?: unknown };
    if (reply.certificate !== null && typeof reply.certificate !== 'string') {
      throw new EnclaveElectError('E_ENCLAVE_PROTOCOL', `${path} answered without a certificate`);
    }
    if (reply.certificate === null) return null;
    const candidates = Array.isArray(reply.candidates) ? (reply.candidates as MemberIdentity[]) : null;
    return { token: reply.certificate, candidates };
  }

  async #verified(reply: LeaseReply | null, path: string): Promise<LeaseAnswer> {
    if (reply === null) throw new EnclaveElectError('E_ENCLAVE_PROTOCOL', `${path} granted no certificate`);
    // The enclave's own answer: a new kid means it restarted, so re-attest unthrottled.
    const certificate = await this.#verify(reply.token, false);
    // The candidates travel beside the certificate, which commits to them: check the choice in full.
    if (reply.candidates !== null && !certificateMatchesMembers(certificate.claims, reply.candidates)) {
      throw new EnclaveElectError(
        'E_ENCLAVE_PROTOCOL',
        `${path} answered candidates that do not match the certificate's members_digest and leader_index`,
      );
    }
    return { ...certificate, candidates: reply.candidates };
  }

  async #request(
    method: string,
    path: string,
    body: object | undefined,
    timeoutMs: number,
  ): Promise<Response> {
    // A fresh connection per request (a few a second, cluster-wide): a pooled
    // keep-alive socket can go stale without a word across a partition, and
    // after the heal each request on one hung until its timeout (chaos: an
    // isolated old leader timed out 2-3 times in a row, 3-4 s, while UDP worked).
    const headers: Record<string, string> = { connection: 'close' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const init = {
      method,
      signal: AbortSignal.timeout(timeoutMs),
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    };
    let response: Response;
    try {
      const send = this.#options.fetch;
      response = await send(`${this.#options.url}${path}`, init).catch((error: unknown) => {
        // The connection closed under us (e.g. the enclave restarted): one fresh try.
        if (socketClosed(error)) return send(`${this.#options.url}${path}`, init);
        throw error;
      });
    } catch (error) {
      const name = (error as Error).name;
      if (name === 'TimeoutError' || name === 'AbortError') {
        throw new EnclaveElectError(
          'E_TIMEOUT',
          `enclave ${method} ${path.split('?')[0]} took over ${timeoutMs} ms`,
        );
      }
      const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
      throw new EnclaveElectError(
        'E_ENCLAVE_UNREACHABLE',
        `enclave at ${this.#options.url} unreachable: ${cause}`,
        {
          cause: error,
        },
      );
    }
    if (!response.ok) {
      let code = 'E_ENCLAVE_ERROR';
      let message = response.statusText;
      let retryAt: number | undefined;
      try {
        const reply = (await response.json()) as {
          error?: { code?: string; message?: string; retry_at?: unknown };
        };
        code = reply.error?.code ?? code;
        message = reply.error?.message ?? message;
        if (Number.isSafeInteger(reply.error?.retry_at)) retryAt = reply.error?.retry_at as number;
      } catch {
        // not JSON: keep the status text
      }
      throw new EnclaveRequestError(response.status, code, message, retryAt);
    }
    return response;
  }
}

function socketClosed(error: unknown): boolean {
  const code = (error as { cause?: { code?: string } }).cause?.code;
  return code === 'UND_ERR_SOCKET' || code === 'ECONNRESET';
}
