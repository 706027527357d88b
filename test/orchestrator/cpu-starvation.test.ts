import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CPU_PERIOD_US, quotaFor } from '../../src/orchestrator/cpu-starvation.ts';
import { runBinary } from '../support/run-cli.ts';

describe('CPU starvation', () => {
  it('turns a share of one CPU into a CFS quota per 100 ms period, at least the 1 ms the kernel allows', () => {
    assert.equal(CPU_PERIOD_US, 100_000);
    assert.deepEqual([5, 50, 100, 0.1].map(quotaFor), [5000, 50_000, 100_000, 1000]);
  });

  it('refuses a share of 0 or above one CPU', () => {
    assert.throws(() => quotaFor(0), { code: 'E_USAGE', message: /more than 0% and at most 100%/ });
    assert.throws(() => quotaFor(150), { code: 'E_USAGE' });
  });

  it('`cluster cpu` wants exactly one of --share and --clear (exit 2)', async () => {
    for (const flags of [[], ['--share', '5%', '--clear']]) {
      const result = await runBinary(['cluster', 'cpu', 'peer-1', ...flags]);
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, /give --share \(5%\) to starve the peer, or --clear/);
    }
  });
});
