// The membership bench with its peers split across two worker threads, small:
// it must converge, detect one kill, answer in its JSON shape, and leave no
// socket or thread behind. Timing-sensitive, so it lives here and not in test/.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runMembershipBench } from '../bench/suites/membership.ts';

describe('membership bench in worker threads, 24 peers', () => {
  it('converges, detects a kill, reports its JSON shape and closes everything', async () => {
    const result = await runMembershipBench({
      peers: 24,
      workers: 2,
      samples: 1,
      steadyMs: 1000,
      settleMs: 1000,
    });

    assert.deepEqual(Object.keys(result), [
      'suite',
      'peers',
      'convergeMs',
      'spreadMs',
      'detect',
      'falsePositives',
      'perPeer',
      'signatures',
    ]);
    assert.equal(result.suite, 'membership');
    assert.equal(result.peers, 24);
    assert.ok(result.convergeMs !== null, 'converged');
    assert.ok(result.spreadMs !== null && Number.isFinite(result.spreadMs), 'the update reached every peer');
    assert.equal(result.detect.samples, 1);
    assert.ok(result.detect.p50Ms !== null && Number.isFinite(result.detect.p50Ms), 'detected within 20 s');
    assert.equal(typeof result.falsePositives, 'number');
    assert.deepEqual(Object.keys(result.detect), ['p50Ms', 'p99Ms', 'samples']);
    assert.deepEqual(Object.keys(result.perPeer), ['datagramsPerSec', 'bytesPerSec']);
    assert.ok((result.perPeer.datagramsPerSec ?? 0) > 0, 'peers sent datagrams in steady state');
    // Admission is on: records are signed and checked, and the CPU they take is reported.
    assert.ok(result.signatures, 'the signature cost is reported');

    const left = process.getActiveResourcesInfo().filter((r) => /UDP|Worker|MessagePort/i.test(r));
    assert.deepEqual(left, [], 'no socket or worker left open');
  });
});
