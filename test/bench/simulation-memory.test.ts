// The simulation holds every member's table in one process, so its memory grows
// as N²: a size that cannot fit is refused before minutes of CPU are spent on it,
// with what it needs and what to do.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { largestFitting, memoryRefusal, simulationHeapBytes } from '../../bench/support/simulation-memory.ts';

const GB = 1e9;
const MAIN = new URL('../../bench/main.ts', import.meta.url).pathname;

describe('simulation memory check', () => {
  it('grows as N squared', () => {
    const at1k = simulationHeapBytes(1000);
    const at2k = simulationHeapBytes(2000);
    assert.ok(at2k >= 3 * at1k && at2k < 4 * at1k, `${at1k} -> ${at2k}`);
    assert.ok(simulationHeapBytes(10_000) > 50 * GB);
  });

  it('lets through a size that fits the heap and the machine', () => {
    assert.equal(memoryRefusal(1000, { heapLimitBytes: 4.3 * GB, totalMemoryBytes: 25 * GB }), null);
  });

  it('refuses a size beyond this machine, naming the largest that fits', () => {
    const refusal = memoryRefusal(10_000, { heapLimitBytes: 4.3 * GB, totalMemoryBytes: 25 * GB });
    assert.ok(refusal);
    assert.match(refusal, /^--peers 10000 needs about 60 GB of memory/);
    assert.match(refusal, /this machine has 25 GB/);
    const largest = largestFitting(25 * GB);
    assert.ok(simulationHeapBytes(largest) <= 0.9 * 25 * GB);
    assert.ok(simulationHeapBytes(largest + 100) > 0.9 * 25 * GB);
    assert.match(refusal, new RegExp(`about ${largest.toLocaleString('en-US')}`));
  });

  it('asks for a larger V8 heap when the machine has the memory', () => {
    const refusal = memoryRefusal(3000, { heapLimitBytes: 4.3 * GB, totalMemoryBytes: 25 * GB });
    assert.ok(refusal);
    assert.match(refusal, /^--peers 3000 needs about 5\.7 GB of heap, and this process may use 4\.3 GB/);
    assert.match(refusal, /NODE_OPTIONS=--max-old-space-size=6\d{3} npm run bench -- simulation/);
  });

  it('refuses from the command line at once, with exit 2', () => {
    const started = Date.now();
    const r = spawnSync(process.execPath, [MAIN, 'simulation', '--peers', '1000,10000'], {
      encoding: 'utf8',
    });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /^bench simulation: --peers 10000 needs about 60 GB/);
    assert.ok(Date.now() - started < 20_000, 'before any run starts');
  });
});
