// Polls every peer's /status in rounds while a chaos run lasts and turns each
// round into Observations (one timestamp per round: when its last answer came,
// so agreement times are never flattered). Peers a fault has cut off are marked
// not live; a peer that runs but does not answer is live and does not agree.
import { setTimeout as sleep } from 'node:timers/promises';
import type { DockerClient } from '../orchestrator/docker-client.ts';
import type { ClusterSelector } from '../orchestrator/labels.ts';
import type { StatusReader } from '../orchestrator/peer-status.ts';
import { type ClusterStatusReport, collectClusterStatus } from '../orchestrator/status-report.ts';
import type { Observation } from './history.ts';

/**
 * A status round that has not answered by then is given up (the next round
 * tries again). A read that never settles, such as a stream whose socket went
 * away without an error, would otherwise stall the poller, and with no timer
 * left the process would end mid-run (Node's "unsettled top-level await").
 */
export const ROUND_DEADLINE_MS = 15_000;

/** `promise`, or a rejection once `ms` have passed; the timer keeps the process alive meanwhile. */
export function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

export interface PollRound {
  startedAt: number;
  t: number;
  report: ClusterStatusReport;
}

export function observationsOf(round: PollRound, cutOff: ReadonlySet<string>): Observation[] {
  return round.report.peers.map((p) => {
    const leader = p.status?.leader ?? null;
    const named = leader !== null && typeof leader.name === 'string' && typeof leader.epoch === 'number';
    return {
      t: round.t,
      from: round.startedAt,
      peer: p.name,
      live: p.state === 'running' && !cutOff.has(p.name),
      leader: named ? leader.name : null,
      epoch: named ? leader.epoch : null,
      verified: named && leader.verified !== false,
    };
  });
}

export class StatusPoller {
  readonly observations: Observation[] = [];
  /**
   * Peers a fault currently cuts off (paused, partitioned away): not expected
   * to agree, and not read either — a `docker exec` racing a pause wedged runc
   * (a frozen `runc init`, unpause hanging) on Docker 20.10.
   */
  readonly cutOff = new Set<string>();
  #round: Promise<void> = Promise.resolve();
  latest: PollRound | undefined;
  #running = false;
  #loop: Promise<void> | undefined;
  #listeners = new Set<(round: PollRound) => void>();

  /** One round's report; peers in `cutOff` are not read. */
  #collect: (cutOff: ReadonlySet<string>) => Promise<ClusterStatusReport>;
  readonly #intervalMs: number;
  #roundDeadlineMs = ROUND_DEADLINE_MS;
  readonly #now: () => number;

  constructor(
    docker: Pick<DockerClient, 'listContainers'>,
    selector: ClusterSelector,
    reader: StatusReader,
    intervalMs: number,
    now: () => number = Date.now,
  ) {
    this.#collect = (cutOff) =>
      collectClusterStatus(docker, selector, (c) =>
        cutOff.has(c.name) || cutOff.has(c.container)
          ? Promise.reject(new Error('not read while a fault acts on it'))
          : reader(c),
      );
    this.#intervalMs = intervalMs;
    this.#now = now;
  }

  /** A poller over another kind of cluster (a swarm stack): `collect` reads one round, leaving out `cutOff`. */
  static over(
    collect: (cutOff: ReadonlySet<string>) => Promise<ClusterStatusReport>,
    intervalMs: number,
    now: () => number = Date.now,
    roundDeadlineMs: number = ROUND_DEADLINE_MS,
  ): StatusPoller {
    // The container-cluster collector is never called: `collect` replaces it at once.
    const unused = () => Promise.reject(new Error('not a container cluster'));
    const poller = new StatusPoller(
      { listContainers: unused },
      { kind: 'name', name: '-' },
      unused,
      intervalMs,
      now,
    );
    poller.#collect = collect;
    poller.#roundDeadlineMs = roundDeadlineMs;
    return poller;
  }

  start(): void {
    this.#running = true;
    this.#loop = this.#run();
  }

  /** Stop reading these peers (member or container names) and wait for a round in flight to finish. */
  async hold(names: string[]): Promise<void> {
    for (const name of names) this.cutOff.add(name);
    await this.#round;
  }

  release(names: string[]): void {
    for (const name of names) this.cutOff.delete(name);
  }

  async stop(): Promise<void> {
    this.#running = false;
    await this.#loop;
  }

  /** Resolves with the first round that started at or after `since` and satisfies `ok`, or null at the timeout. */
  async until(
    ok: (round: PollRound) => boolean,
    since: number,
    timeoutMs: number,
  ): Promise<PollRound | null> {
    return new Promise((resolve) => {
      const done = (value: PollRound | null) => {
        clearTimeout(timer);
        this.#listeners.delete(listener);
        resolve(value);
      };
      const listener = (round: PollRound) => {
        if (round.startedAt >= since && ok(round)) done(round);
      };
      const timer = setTimeout(() => done(null), timeoutMs);
      this.#listeners.add(listener);
    });
  }

  async #run(): Promise<void> {
    while (this.#running) {
      const startedAt = this.#now();
      try {
        const reading = withDeadline(this.#collect(this.cutOff), this.#roundDeadlineMs);
        this.#round = reading.then(
          () => undefined,
          () => undefined,
        );
        const report = await reading;
        const round = { startedAt, t: this.#now(), report };
        this.latest = round;
        this.observations.push(...observationsOf(round, this.cutOff));
        for (const listener of [...this.#listeners]) listener(round);
      } catch {
        // The engine hiccuped (a container removed mid-list): the next round tries again.
      }
      await sleep(this.#intervalMs);
    }
  }
}
