import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { mapBounded } from '../../src/orchestrator/bounded-map.ts';

describe('bounded map', () => {
  it('keeps the order of results and never runs more than the limit at once', async () => {
    let running = 0;
    let most = 0;
    const results = await mapBounded([50, 10, 30, 0, 20, 5, 40], 3, async (ms, i) => {
      running += 1;
      most = Math.max(most, running);
      await sleep(ms);
      running -= 1;
      return `${i}:${ms}`;
    });
    assert.deepEqual(results, ['0:50', '1:10', '2:30', '3:0', '4:20', '5:5', '6:40']);
    assert.equal(most, 3);
  });

  it('handles no items', async () => {
    assert.deepEqual(await mapBounded([], 4, async () => 1), []);
  });
});
