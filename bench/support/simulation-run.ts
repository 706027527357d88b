// One run of the virtual-time simulation bench (bench/suites/simulation.ts):
// a cold start of N members, steady-state traffic, then killed members one
// after another, with the issue's definitions:
// - converge: from the start until every member holds every other alive;
// - detect: from a kill until every running member marks the victim dead;
// - spread: from the first member marking it dead to the last;
// - false positives: dead marks about members nobody killed, during the cold
//   start (until convergence plus the settle time) and in steady state after;
// - traffic: datagrams and bytes sent per member per second over a steady window.

import { PEER_DEFAULTS } from '../../src/peer/config.ts';
import { pullIntervalMs } from '../../src/peer/membership/timing.ts';
import { randomInt, seededRandom } from '../../src/random/seeded-random.ts';
import { threadCpuMs } from './bench-admissions.ts';
import { percentile } from './stats.ts';
import { VirtualCluster } from './virtual-cluster.ts';
import type { LinkModel } from './virtual-network.ts';

export interface SimulationOptions {
  peers: number;
  seed: number;
  link: LinkModel;
  /** Killed members to time, one after another. */
  samples: number;
  /** Stand-in enclave key (PEM): admission and signed records; undefined: open membership. */
  enclavePem: string | undefined;
  /** Virtual ms to wait after convergence before counting traffic (join-time pulls end). */
  settleMs?: number;
  /** Virtual ms of the steady traffic window (default: 10 s or one pull interval at N, the longer). */
  steadyMs?: number;
  /** Virtual ms to give the cold start before calling it unconverged. */
  convergeLimitMs?: number;
  /** Progress lines (stderr in the suite). */
  progress?: (line: string) => void;
}

export interface SimulationResult {
  peers: number;
  seed: number;
  admission: boolean;
  /** Virtual ms; null: not converged within the limit. */
  convergeMs: number | null;
  /** Share of members holding every other alive when the cold start ended (1 when converged). */
  convergedShare: number;
  detect: { p50Ms: number | null; p99Ms: number | null; samples: number; missed: number };
  spread: { p50Ms: number | null; p99Ms: number | null; maxMs: number | null };
  falsePositives: { coldStart: number; steadyState: number };
  perMember: { datagramsPerSec: number | null; bytesPerSec: number | null };
  network: { delivered: number; lost: number };
  /** Signature checks and signs in this thread, with their CPU time (admission on). */
  signatures: { checks: number; signs: number; cpuMs: number } | null;
  /** Drops by reason over all members (internal-error would be a bug). */
  drops: Record<string, number>;
  wallMs: number;
  virtualMs: number;
  /** This process's peak resident memory so far, MB: every member's table grows as N². */
  maxRssMb: number;
}

const round = (x: number | null | undefined, places = 0): number | null => {
  if (x === null || x === undefined) return null;
  const f = 10 ** places;
  return Math.round(x * f) / f;
};

export async function runSimulation(options: SimulationOptions): Promise<SimulationResult> {
  const { peers, seed, samples } = options;
  const progress = options.progress ?? (() => {});
  const wallStart = performance.now();
  const cpuStart = threadCpuMs();
  const cluster = new VirtualCluster({
    peers,
    seed,
    link: options.link,
    ...(options.enclavePem === undefined ? {} : { enclavePem: options.enclavePem }),
  });
  const victims = seededRandom(`${seed}:victims`);
  try {
    progress(`N = ${peers}, seed ${seed}: starting every member at virtual time 0`);
    cluster.startAll();
    const limit = options.convergeLimitMs ?? 120_000;
    // Progress every 5 virtual seconds, and at least every 30 s of wall time: a cold start
    // of thousands takes minutes of wall time per virtual second.
    let nextReportAt = 5_000;
    let nextWallReportAt = performance.now() + 30_000;
    const converge = cluster.runUntil(
      () => {
        if (cluster.clock.now() >= nextReportAt || performance.now() >= nextWallReportAt) {
          while (nextReportAt <= cluster.clock.now()) nextReportAt += 5_000;
          nextWallReportAt = performance.now() + 30_000;
          const share = ((cluster.convergedPeers() / peers) * 100).toFixed(1);
          const gaps = cluster.gaps();
          const short =
            gaps.short === 0
              ? ''
              : `; the ${gaps.short} others lack a median of ${gaps.medianMissing}, ${gaps.worstMember} is missing at ${gaps.worstMissedBy}, ${gaps.suspect} views suspect`;
          progress(
            `  ${cluster.clock.now() / 1000} s virtual: ${share}% know all${short} (${Math.round(performance.now() - wallStart)} ms wall)`,
          );
        }
        return cluster.converged();
      },
      limit,
      // Checks cost O(N); 50 ms steps are the figure's resolution.
      50,
    );
    const convergedShare = cluster.convergedPeers() / peers;
    progress(
      `converge: ${converge === undefined ? `no (${limit / 1000} s virtual, ${(convergedShare * 100).toFixed(1)}% of members know all)` : `${converge} ms virtual`} after ${Math.round(performance.now() - wallStart)} ms wall`,
    );

    cluster.run(options.settleMs ?? 10_000);
    const coldStart = cluster.falseDeaths.length;
    const steadyMs =
      options.steadyMs ?? Math.max(10_000, pullIntervalMs(PEER_DEFAULTS.pushPullIntervalMs, peers));
    const before = cluster.traffic();
    cluster.run(steadyMs);
    const after = cluster.traffic();
    const seconds = steadyMs / 1000;
    const perMember = {
      datagramsPerSec: round((after.datagrams - before.datagrams) / after.running / seconds, 2),
      bytesPerSec: round((after.bytes - before.bytes) / after.running / seconds),
    };
    progress(
      `steady traffic per member: ${perMember.datagramsPerSec} datagrams/s, ${perMember.bytesPerSec} B/s`,
    );

    const detections: number[] = [];
    const spreads: number[] = [];
    let missed = 0;
    for (let s = 0; s < samples; s++) {
      // Any member but the seeds, not killed before.
      let victim: number;
      do victim = 3 + randomInt(victims, peers - 3);
      while (cluster.killed.has(victim));
      const killedAt = cluster.clock.now();
      await cluster.kill(victim);
      const took = cluster.runUntil(() => cluster.deathMarks(victim) !== undefined, 30_000, 10);
      const marks = cluster.deathMarks(victim);
      if (took === undefined || !marks) {
        missed++;
        progress(`detect ${s + 1}/${samples}: peer-${victim} not marked dead by all within 30 s`);
      } else {
        detections.push(marks.last - killedAt);
        spreads.push(marks.last - marks.first);
        progress(
          `detect ${s + 1}/${samples}: peer-${victim} ${Math.round(marks.last - killedAt)} ms, spread ${Math.round(marks.last - marks.first)} ms`,
        );
      }
      // Let the rumour's retransmissions end before the next kill.
      cluster.run(2_000);
    }
    const cost = cluster.admissions?.cost;
    const result: SimulationResult = {
      peers,
      seed,
      admission: cluster.admissions !== undefined,
      convergeMs: converge ?? null,
      convergedShare: round(convergedShare, 4)!,
      detect: {
        p50Ms: round(percentile(detections, 50)),
        p99Ms: round(percentile(detections, 99)),
        samples: detections.length,
        missed,
      },
      spread: {
        p50Ms: round(percentile(spreads, 50)),
        p99Ms: round(percentile(spreads, 99)),
        maxMs: round(spreads.length === 0 ? null : Math.max(...spreads)),
      },
      falsePositives: { coldStart, steadyState: cluster.falseDeaths.length - coldStart },
      perMember,
      network: { delivered: cluster.network.delivered, lost: cluster.network.lost },
      signatures: cost
        ? { checks: cost.checks, signs: cost.signs, cpuMs: Math.round(cost.checkMs + cost.signMs) }
        : null,
      drops: cluster.drops(),
      wallMs: Math.round(performance.now() - wallStart),
      virtualMs: Math.round(cluster.clock.now()),
      maxRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    };
    progress(
      `done in ${result.wallMs} ms wall (${Math.round(threadCpuMs() - cpuStart)} ms CPU), ${result.virtualMs} ms virtual`,
    );
    return result;
  } finally {
    await cluster.close();
  }
}
