// A peer's leadership for applications, wired together: the view of its
// election (leader, epoch, seq, lease end, acting, fencing token), the watch
// that streams its changes, the --exec supervisor, and the election observer
// that keeps them (and the metrics) current. start-peer.ts builds one.
import type { Logger } from '../../log/logger.ts';
import type { Clock } from '../../time/clock.ts';
import type { PeerMetrics } from '../admin/peer-metrics.ts';
import type { ElectionObserver, PeerElection } from '../election/peer-election.ts';
import { spawnShell } from '../exec/child-process.ts';
import { LeaderExec, type Spawn } from '../exec/leader-exec.ts';
import { LeaderWatch } from './leader-watch.ts';
import { type LeadershipSource, type LeadershipView, NO_LEADERSHIP } from './leadership-view.ts';

export interface PeerLeadershipOptions {
  clock: Clock;
  metrics: PeerMetrics;
  logger: Logger;
  /** `--exec`: empty for none. */
  execCommand: string;
  execGraceMs: number;
  /** How much earlier --exec signals its child, for late timers: the election's leader margin. */
  execTimerSlackMs?: number;
  /** Where an --exec child fetches a fresh token (the admin port's /v1/token). */
  tokenUrl: () => string;
  spawn?: Spawn;
}

/** The environment an --exec child inherits: enough to run a program, nothing secret of ours. */
function childBaseEnv(): Record<string, string> {
  const keep = ['PATH', 'HOME', 'LANG', 'TZ', 'NODE_EXTRA_CA_CERTS', 'LOG_LEVEL'];
  return Object.fromEntries(keep.flatMap((key) => (process.env[key] ? [[key, process.env[key]!]] : [])));
}

export class PeerLeadership implements LeadershipSource {
  readonly watch: LeaderWatch;
  readonly exec: LeaderExec | undefined;
  readonly observer: ElectionObserver;
  #election: PeerElection | undefined;
  #releases = { count: 0, reason: null as string | null };

  constructor(options: PeerLeadershipOptions) {
    this.watch = new LeaderWatch({ source: this, clock: options.clock });
    const log = options.logger;
    this.exec = options.execCommand
      ? new LeaderExec({
          command: options.execCommand,
          clock: options.clock,
          spawn: options.spawn ?? spawnShell,
          termGraceMs: options.execGraceMs,
          ...(options.execTimerSlackMs === undefined ? {} : { timerSlackMs: options.execTimerSlackMs }),
          baseEnv: childBaseEnv(),
          tokenUrl: options.tokenUrl,
          leadership: () => {
            const status = this.#election?.election.status();
            return {
              acting: status?.isLeader ?? false,
              windowEnd: status?.actingUntil ?? null,
              epoch: status?.certificate?.claims.epoch ?? 0,
              token: this.#election?.token() ?? null,
            };
          },
          log: (event) => (event.event === 'exec.signalled' ? log.warn(event) : log.info(event)),
        })
      : undefined;
    const metrics = options.metrics;
    this.observer = {
      enclaveRequest: (operation, outcome, seconds) => metrics.enclaveRequest(operation, outcome, seconds),
      certificateVerified: (result, cached) => metrics.certificateVerified(result, cached),
      leadershipChanged: (event, reason) => {
        metrics.leadershipChanged(event, reason);
        if (event === 'released')
          this.#releases = { count: this.#releases.count + 1, reason: reason ?? null };
        this.#changed();
      },
      electionChanged: () => this.#changed(),
    };
  }

  /** The election to follow (none: membership only, and never leader). */
  attach(election: PeerElection | undefined): void {
    this.#election = election;
  }

  start(): void {
    this.watch.start();
  }

  async stop(): Promise<void> {
    this.watch.stop();
    await this.exec?.stop();
  }

  view(): LeadershipView {
    const election = this.#election;
    if (!election) return NO_LEADERSHIP;
    const { certificate, isLeader } = election.election.status();
    if (certificate === null) return NO_LEADERSHIP;
    const { claims } = certificate;
    return {
      leader: { name: claims.leader.name, key: claims.leader.key },
      epoch: claims.epoch,
      seq: claims.seq,
      leaseEnd: claims.lease_end,
      acting: isLeader,
      token: isLeader ? election.token() : null,
    };
  }

  releases(): { count: number; reason: string | null } {
    return this.#releases;
  }

  #changed(): void {
    this.watch.poke();
    this.exec?.update();
  }
}
