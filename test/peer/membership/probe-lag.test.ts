// A peer woken late (a starved event loop) gives its probes the time its own
// lateness takes from them: an ack waits a turn at the target and a turn
// here. Without it, on a host running 1,000 peers on 2 cores, about a third
// of probes failed and each failure started a cluster-wide suspicion.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeDatagram, encodeDatagram } from '../../../src/protocol/gossip-codec.ts';
import { peer } from '../support/admitted-peer.ts';

/** Tick `core` every 10 ms from `from` to `until` without answering anything; when each indirect ping went. */
function indirectPingsAt(core: ReturnType<typeof peer>['core'], from: number, until: number): number[] {
  const at: number[] = [];
  for (let now = from; now < until; now += 10) {
    for (const effect of core.tick(now)) {
      if (effect.type !== 'send') continue;
      const decoded = decodeDatagram(encodeDatagram(effect.messages));
      assert.ok(decoded.ok);
      if (decoded.messages.some((m) => m.type === 'indirect-ping')) at.push(now);
    }
  }
  return at;
}

describe('probes on a late event loop', () => {
  it('moves a probe’s deadlines out by twice how late this peer was woken, at most twice the longest probe interval', () => {
    const { core, run } = peer([3_600_000, 3_600_000, 3_600_000], 321);
    run(0, 2_000);
    // Woken 5 s after the last tick: the probe due by then starts about 4.5 s late.
    const [first] = indirectPingsAt(core, 7_000, 30_000).filter((t) => t >= 7_000);
    assert.ok(first !== undefined, 'the unanswered probe goes indirect');
    // On time, the direct deadline is 200 ms away (the harness's awareness stays 0). The
    // allowance is capped at 2 x probe interval x awarenessMax (1 here): 1,000 ms.
    const after = first - 7_000;
    assert.ok(
      after >= 200 + 1_000 && after <= 200 + 1_000 + 20,
      `indirect ping ${after} ms after the late start`,
    );
  });

  it('probes at its usual rate again within seconds of one long stall (a pause is not load)', () => {
    const { run } = peer([3_600_000, 3_600_000, 3_600_000], 323);
    run(0, 2_000);
    // No tick for 30 s, then ticks on time (pings acked at once).
    const pings = run(32_000, 42_000).filter((s) => s.message.type === 'ping');
    // 500 ms apart when on time: about 20 in 10 s.
    assert.ok(pings.length >= 14, `${pings.length} pings in the 10 s after the stall`);
  });

  it('gives the allowance back as wake-ups come on time again', () => {
    const { core, run } = peer([3_600_000, 3_600_000, 3_600_000], 322);
    run(0, 2_000);
    run(7_000, 8_000);
    // On-time ticks from here (every 10 ms, pings acked): the lag estimate decays.
    run(8_000, 120_000);
    const [first] = indirectPingsAt(core, 120_000, 140_000);
    assert.ok(first !== undefined);
    // The probe starts when due (within one probe interval, scaled); its direct deadline is near again.
    assert.ok(first - 120_000 < 2 * 1_000 + 400 + 100, `indirect ping ${first - 120_000} ms in`);
  });
});
