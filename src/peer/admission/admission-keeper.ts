// Keeps this peer admitted: asks the attested enclave for an admission at
// start, again at half of each admission's lifetime (so the cluster sees the
// new one long before the old expires), and after a refusal or failure with
// jittered backoff, or at the `retry_at` the enclave named (a name still held
// by a dead former self at another address). Never throws out of a timer.
import type { AdmissionClaims } from '../../crypto/admission-certificate.ts';
import type { TimerHandle } from '../../time/clock.ts';

export interface AdmissionKeeperOptions {
  /** One admission request (EnclaveClient.admit, bound to this peer's name, key and secret). */
  admit(): Promise<{ token: string; claims: AdmissionClaims }>;
  /** Wall clock, ms: admissions expire by wall time. */
  now(): number;
  setTimer(delayMs: number, fn: () => void): TimerHandle;
  random(): number;
  onAdmitted(token: string, claims: AdmissionClaims): void;
  onError(error: Error, retryInMs: number): void;
  /** First retry after a failure; doubles up to maxBackoffMs. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

export class AdmissionKeeper {
  readonly #options: Required<AdmissionKeeperOptions>;
  #current: { token: string; claims: AdmissionClaims } | undefined;
  #timer: TimerHandle | undefined;
  #failures = 0;
  #stopped = false;

  constructor(options: AdmissionKeeperOptions) {
    this.#options = { minBackoffMs: 500, maxBackoffMs: 30_000, ...options };
  }

  get current(): { token: string; claims: AdmissionClaims } | undefined {
    return this.#current;
  }

  /** Admit now; resolves with the first admission (rejects only if stopped before one). */
  start(): Promise<{ token: string; claims: AdmissionClaims }> {
    return new Promise((resolve, reject) => {
      const attempt = async () => {
        if (this.#stopped) {
          reject(new Error('admission keeper stopped'));
          return;
        }
        const retryIn = await this.#admitOnce();
        if (retryIn === undefined) resolve(this.#current!);
        else if (!this.#stopped) this.#timer = this.#options.setTimer(retryIn, () => void attempt());
      };
      void attempt();
    });
  }

  stop(): void {
    this.#stopped = true;
    this.#timer?.cancel();
  }

  /** One attempt: undefined when admitted, else how long to wait before the next. */
  async #admitOnce(): Promise<number | undefined> {
    try {
      const admitted = await this.#options.admit();
      this.#current = admitted;
      this.#failures = 0;
      this.#options.onAdmitted(admitted.token, admitted.claims);
      const { iat, exp } = admitted.claims;
      this.#schedule(Math.max(1000, iat + (exp - iat) / 2 - this.#options.now()));
      return undefined;
    } catch (error) {
      this.#failures++;
      const retryAt = (error as { retryAt?: unknown }).retryAt;
      const wait =
        typeof retryAt === 'number'
          ? Math.max(this.#backoff(), retryAt - this.#options.now())
          : this.#backoff();
      this.#options.onError(error as Error, wait);
      // While admitted, renewal retries itself; before the first admission start() retries.
      if (this.#current) this.#schedule(wait);
      return wait;
    }
  }

  #schedule(delayMs: number): void {
    if (this.#stopped) return;
    this.#timer?.cancel();
    this.#timer = this.#options.setTimer(delayMs, () => void this.#admitOnce());
  }

  #backoff(): number {
    const base = Math.min(
      this.#options.maxBackoffMs,
      this.#options.minBackoffMs * 2 ** Math.max(0, this.#failures - 1),
    );
    return Math.round(base * (0.5 + this.#options.random() / 2));
  }
}
