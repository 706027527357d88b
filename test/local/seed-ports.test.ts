import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_RUNNING_SEEDS, seedPorts } from '../../src/local/seed-ports.ts';

const running = (gossipPort: number) => ({ gossipPort, exited: null });
const killed = (gossipPort: number) => ({ gossipPort, exited: { code: null, signal: 'SIGKILL' } });

describe('local seed ports', () => {
  it('names the reserved ports of peers about to start, never its own', () => {
    assert.deepEqual(seedPorts([7001, 7002], [], 7001), [7002]);
    assert.deepEqual(seedPorts([7001, 7002], [running(7001)], 7002), [7001]);
  });

  it('names running peers once the reserved ones have started', () => {
    assert.deepEqual(seedPorts([7001, 7002], [running(7001), running(7002)], 7003), [7001, 7002]);
  });

  it('skips the first peers once they were killed, so a revived peer still joins', () => {
    const peers = [killed(7001), killed(7002), running(7003), running(7004)];
    assert.deepEqual(seedPorts([7001, 7002], peers, 7005), [7003, 7004]);
  });

  it(`names at most ${MAX_RUNNING_SEEDS} running peers`, () => {
    const peers = [7001, 7002, 7003, 7004, 7005].map(running);
    assert.deepEqual(seedPorts([7001, 7002], peers, 7006), [7001, 7002, 7003]);
  });

  it('names nobody when every other peer is gone: the new peer forms a cluster of its own', () => {
    assert.deepEqual(seedPorts([7001], [killed(7001)], 7002), []);
  });
});
