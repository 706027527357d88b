// The virtual-time simulation bench (bench/suites/simulation.ts) must repeat
// itself: the same seed gives the same figures, to the datagram, so a figure
// in docs/scale.md can be reproduced from its seed. Small N, so it runs with
// the unit tests; the real protocol runs (admission and signatures on).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { benchEnclavePem } from '../../../bench/support/bench-admissions.ts';
import { runSimulation, type SimulationResult } from '../../../bench/support/simulation-run.ts';
import { VirtualNetwork } from '../../../bench/support/virtual-network.ts';
import { seededRandom } from '../../../src/random/seeded-random.ts';
import { ManualClock } from '../../../src/time/clock.ts';

const link = { baseLatencyMs: 1, jitterMeanMs: 1, loss: 0.01 };
const enclavePem = benchEnclavePem();

/** The figures of a run without wall-clock time, CPU time and memory, which vary with the machine. */
function figures(r: SimulationResult) {
  const { wallMs: _wall, maxRssMb: _rss, signatures, ...rest } = r;
  return { ...rest, signatures: signatures && { checks: signatures.checks, signs: signatures.signs } };
}

const run = (seed: number) =>
  runSimulation({ peers: 12, seed, link, samples: 2, enclavePem, steadyMs: 5_000, settleMs: 2_000 });

describe('the simulation bench', () => {
  it('gives the same figures twice from one seed', async () => {
    const first = await run(7);
    const second = await run(7);
    assert.notEqual(first.convergeMs, null, 'a small cluster converges');
    assert.equal(first.detect.samples, 2, 'both killed members were detected');
    assert.deepEqual(figures(second), figures(first));
  });

  it('draws everything from the seed: another seed, another run', async () => {
    const [a, b] = [await run(7), await run(8)];
    assert.notDeepEqual(figures(a).network, figures(b).network);
  });
});

describe('the virtual network', () => {
  it('loses about the given share and delays every datagram by at least the base latency', () => {
    const clock = new ManualClock(0);
    const network = new VirtualNetwork(clock, seededRandom(3), {
      baseLatencyMs: 2,
      jitterMeanMs: 1,
      loss: 0.1,
    });
    const delays: number[] = [];
    network.attach('b:1').onPacket(() => delays.push(clock.now() - sentAt));
    const a = network.attach('a:1');
    let sentAt = 0;
    for (let i = 0; i < 10_000; i++) {
      sentAt = clock.now();
      a.send(new Uint8Array(1), 'b:1');
      clock.advance(100);
    }
    assert.ok(network.lost > 900 && network.lost < 1100, `lost ${network.lost} of 10000`);
    assert.equal(network.delivered, delays.length);
    assert.ok(Math.min(...delays) >= 2, 'never sooner than the base latency');
    const mean = delays.reduce((s, d) => s + d, 0) / delays.length;
    assert.ok(mean > 2.9 && mean < 3.1, `mean delay ${mean} ms: base 2 + mean tail 1`);
  });

  it('refuses a loss rate outside [0, 1)', () => {
    assert.throws(
      () => new VirtualNetwork(new ManualClock(0), seededRandom(1), { ...link, loss: 1 }),
      /loss/,
    );
  });
});
