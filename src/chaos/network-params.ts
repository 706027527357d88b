// The parameters of a scheduled network fault, drawn from the schedule's
// seeded random source: ranges wide enough to matter to SWIM and the lease
// (hundreds of ms of delay against a 200 ms probe timeout, tens of percent of
// loss) but short of a clean cut, which the partition kinds already cover.
import type { NetFaultSpec } from '../orchestrator/net-fault-spec.ts';

export const NET_KINDS = ['delay', 'loss', 'duplicate', 'corrupt'] as const;
export type NetKind = (typeof NET_KINDS)[number];

function between(random: () => number, lo: number, hi: number): number {
  return Math.round(lo + random() * (hi - lo));
}

export function drawNetFault(kind: NetKind, random: () => number): NetFaultSpec {
  switch (kind) {
    case 'delay': {
      const delayMs = between(random, 50, 300);
      const spec: NetFaultSpec = { delayMs, jitterMs: between(random, 0, delayMs / 2) };
      if (random() < 0.5) spec.reorderPercent = between(random, 10, 30);
      return spec;
    }
    case 'loss':
      // Half random (Bernoulli), half bursty (Gilbert-Elliott: bursts begin with p, end with r).
      return random() < 0.5
        ? { lossPercent: between(random, 5, 40) }
        : { lossBurst: { p: between(random, 2, 10), r: between(random, 10, 50), lossBad: 100, lossGood: 0 } };
    case 'duplicate':
      return { duplicatePercent: between(random, 5, 30) };
    case 'corrupt':
      return { corruptPercent: between(random, 5, 30) };
  }
}
