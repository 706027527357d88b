// A peer's admission, assembled for start-up: the authority the membership
// core checks records with (the attested enclave keys of the shared enclave
// client), and the keeper that gets this peer admitted and keeps it so. A
// peer given no join secret runs unadmitted: it checks others' records, but
// no member lists it (docs/security.md).

import type { KeyObject } from 'node:crypto';
import type { AdmissionClaims } from '../../crypto/admission-certificate.ts';
import type { EnclaveClient } from '../../enclave/client/enclave-client.ts';
import type { Logger } from '../../log/logger.ts';
import { randomInt } from '../../platform/node-crypto.ts';
import type { Clock } from '../../time/clock.ts';
import { isoTime } from '../../time/iso-time.ts';
import { AdmissionKeeper } from './admission-keeper.ts';
import { PeerAuthority } from './member-authority.ts';

export interface PeerAdmissionOptions {
  name: string;
  signer: KeyObject;
  clusterId: string;
  client: EnclaveClient;
  joinSecret: Buffer | null;
  clock: Clock;
  logger: Logger;
}

/** At most one re-attestation a second for admissions naming an enclave key not yet attested. */
const REATTEST_EVERY_MS = 1000;

export class PeerAdmission {
  readonly authority: PeerAuthority;
  readonly #keeper: AdmissionKeeper | undefined;
  readonly #client: EnclaveClient;
  readonly #clock: Clock;
  readonly #log: Logger;
  #lastReattest = Number.NEGATIVE_INFINITY;
  /**
   * Where an admit call's outcome is reported (the election's view of the
   * enclave, for /status): a peer that is never admitted never joins, so its
   * election never asks, and only this call can find the enclave untrusted.
   */
  reportThrough: <T>(call: () => Promise<T>) => Promise<T> = (call) => call();

  constructor(options: PeerAdmissionOptions) {
    const { client, clock, logger: log } = options;
    this.#client = client;
    this.#clock = clock;
    this.#log = log;
    this.authority = new PeerAuthority({
      clusterId: options.clusterId,
      keys: client.admissionKeys,
      now: () => clock.wallNow(),
      signer: options.signer,
    });
    const secret = options.joinSecret;
    this.#keeper =
      secret === null
        ? undefined
        : new AdmissionKeeper({
            admit: () =>
              this.reportThrough(() =>
                client.admit({ name: options.name, signer: options.signer, joinSecret: secret }),
              ),
            now: () => clock.wallNow(),
            setTimer: (ms, fn) => clock.setTimer(ms, fn),
            random: () => randomInt(1_000_000) / 1_000_000,
            onAdmitted: (token, claims) => this.#admitted(token, claims),
            onError: (error, retryInMs) =>
              log.warn({
                event: 'admission.failed',
                code: (error as { code?: string }).code ?? 'E_ENCLAVE_REQUEST',
                error: error.message,
                retryInMs,
              }),
          });
  }

  /** Whether start() waits for the enclave (a join secret was given). */
  get joinsLater(): boolean {
    return this.#keeper !== undefined;
  }

  get admitted(): AdmissionClaims | undefined {
    return this.#keeper?.current?.claims;
  }

  /** Resolves once admitted (retrying until then); at once for an unadmitted peer. */
  async start(): Promise<void> {
    if (!this.#keeper) {
      this.#log.warn({
        event: 'admission.none',
        reason: 'no --join-secret (JOIN_SECRET): no other member will list this peer',
      });
      return;
    }
    await this.#keeper.start();
  }

  stop(): void {
    this.#keeper?.stop();
  }

  /** An admission named an enclave key not attested yet (the enclave restarted): re-attest, throttled. */
  unknownKey(): void {
    const now = this.#clock.now();
    if (now - this.#lastReattest < REATTEST_EVERY_MS) return;
    this.#lastReattest = now;
    this.#client
      .attest()
      .catch((error: Error) => this.#log.warn({ event: 'enclave.reattest_failed', error: error.message }));
  }

  status() {
    const claims = this.admitted;
    return claims
      ? {
          admitted: true,
          serial: claims.serial,
          address: claims.address,
          expiresAt: isoTime(claims.exp),
        }
      : { admitted: false };
  }

  #admitted(token: string, claims: AdmissionClaims): void {
    const result = this.authority.setOwn(token);
    this.#log.info({
      event: 'admission.granted',
      serial: claims.serial,
      // The admitted public key: chaos checks every accepted certificate's leader against it.
      key: claims.key,
      address: claims.address,
      expiresAt: isoTime(claims.exp),
      kept: result.ok,
    });
  }
}
