// The election's runtime shell: owns the timer, runs the core's effects
// (enclave requests through a LeaderAuthority, gossip through a
// CertificateChannel, log lines through pino) and feeds results back. All
// decisions stay in election.ts.
import type { Logger } from '../../log/logger.ts';
import type { Election } from './election.ts';
import type { ElectionCertificate, ElectionEffect, MemberRef, MembershipView, RequestKind } from './types.ts';

/** The enclave as the election sees it: every answer is already verified. */
export interface LeaderAuthority {
  elect(members: MemberRef[], knownEpoch: number, waitMs: number): Promise<ElectionCertificate>;
  renew(certificate: ElectionCertificate): Promise<ElectionCertificate>;
  /** Null when the enclave had nobody left to elect. */
  resign(certificate: ElectionCertificate, members: MemberRef[]): Promise<ElectionCertificate | null>;
  /** Verify a certificate that arrived by gossip (re-attesting for an unknown key if needed). */
  verify(compact: string): Promise<ElectionCertificate>;
}

export interface CertificateChannel {
  broadcast(certificate: ElectionCertificate): void;
}

export interface ElectionRuntimeOptions {
  election: Election;
  authority: LeaderAuthority;
  channel: CertificateChannel;
  membership: () => MembershipView;
  logger: Logger;
  /** How often the core is ticked. */
  tickMs?: number;
  /** Told when this peer starts or stops acting as leader (the peer's metrics and leader API). */
  onLeadership?: (event: 'acquired' | 'released', fields: Record<string, unknown>) => void;
}

interface Failure {
  code: string;
  message: string;
}

function asFailure(error: unknown): Failure {
  const e = error as { code?: unknown; message?: unknown };
  return {
    code: typeof e?.code === 'string' ? e.code : 'E_ENCLAVE_REQUEST',
    message: typeof e?.message === 'string' ? e.message : String(error),
  };
}

export class ElectionRuntime {
  readonly #o: Required<ElectionRuntimeOptions>;
  #timer: NodeJS.Timeout | undefined;
  #inflight = new Set<Promise<void>>();
  /** Certificates from gossip already seen (by compact form), so each is verified once. */
  #seen = new Set<string>();
  rejected = 0;

  constructor(options: ElectionRuntimeOptions) {
    this.#o = { tickMs: 50, onLeadership: () => {}, ...options };
  }

  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => this.tick(), this.#o.tickMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  tick(): void {
    this.#run(this.#o.election.tick(this.#o.membership()));
  }

  /** A certificate received by gossip: verify (once) and offer it to the core. */
  async receive(compact: string): Promise<void> {
    if (this.#seen.has(compact)) return;
    this.#remember(compact);
    try {
      const cert = await this.#o.authority.verify(compact);
      this.#run(this.#o.election.offer(cert).effects);
    } catch (error) {
      this.rejected += 1;
      const failure = asFailure(error);
      this.#o.logger.warn({ event: 'certificate.rejected', reason: failure.code, error: failure.message });
    }
  }

  /** Gossip carried a renewal of an epoch we hold no certificate of. */
  missing(epoch: number): void {
    this.#run(this.#o.election.missing(epoch, this.#o.membership()));
  }

  /**
   * Graceful stop: a leader resigns and gossips the hand-over certificate; waits
   * at most `timeoutMs` for the enclave's answer, then stops regardless.
   */
  async shutdown(timeoutMs: number): Promise<void> {
    this.stop();
    const deadline = Date.now() + timeoutMs;
    const settle = (ms: number) =>
      Promise.race([
        Promise.allSettled([...this.#inflight]),
        new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)).unref()),
      ]);
    // A renewal in flight would make the resignation name a stale sequence: let it land first.
    await settle(timeoutMs / 2);
    this.#run(this.#o.election.resign(this.#o.membership()));
    await settle(deadline - Date.now());
  }

  #remember(compact: string): void {
    if (this.#seen.size > 1024) this.#seen.clear(); // bounded: certificates only move forward
    this.#seen.add(compact);
  }

  #run(effects: ElectionEffect[]): void {
    for (const effect of effects) {
      switch (effect.type) {
        case 'log':
          this.#o.logger[effect.level]({ event: effect.event, ...effect.fields });
          if (effect.event === 'leader.acquired') this.#o.onLeadership('acquired', effect.fields);
          else if (effect.event === 'leader.released') this.#o.onLeadership('released', effect.fields);
          break;
        case 'broadcast':
          this.#remember(effect.certificate.compact);
          this.#o.channel.broadcast(effect.certificate);
          break;
        case 'elect':
          this.#request('elect', effect.sentAt, null, () =>
            this.#o.authority.elect(effect.members, effect.knownEpoch, effect.waitMs),
          );
          break;
        case 'renew':
          this.#request('renew', effect.sentAt, effect.certificate, () =>
            this.#o.authority.renew(effect.certificate),
          );
          break;
        case 'resign':
          this.#request('resign', effect.sentAt, effect.certificate, () =>
            this.#o.authority.resign(effect.certificate, effect.members),
          );
          break;
      }
    }
  }

  #request(
    kind: RequestKind,
    sentAt: number,
    basis: ElectionCertificate | null,
    send: () => Promise<ElectionCertificate | null>,
  ): void {
    const done = send().then(
      (cert) =>
        this.#run(
          cert === null
            ? this.#o.election.settled(kind)
            : this.#o.election.succeeded(kind, sentAt, cert, basis),
        ),
      (error: unknown) => this.#run(this.#o.election.failed(kind, asFailure(error))),
    );
    const tracked = done.finally(() => this.#inflight.delete(tracked));
    this.#inflight.add(tracked);
  }
}
