import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runBinary } from '../support/run-cli.ts';

describe('cluster chaos command line', () => {
  it('prints the same schedule for the same seed (--dry-run), without Docker', async () => {
    const args = ['cluster', 'chaos', '--dry-run', '--seed', 'abc', '--duration', '1m', '--peers', '5'];
    const [a, b] = await Promise.all([runBinary(args), runBinary(args)]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(a.stdout, b.stdout);
    const schedule = JSON.parse(a.stdout) as { kind: string }[];
    assert.ok(schedule.length >= 3);
  });

  it('refuses bad options with exit 2, naming the option', async () => {
    const faults = await runBinary(['cluster', 'chaos', '--faults', 'kill,explode']);
    assert.equal(faults.code, 2);
    assert.match(faults.stderr, /--faults: unknown explode/);
    const peers = await runBinary(['cluster', 'chaos', '--peers', '2']);
    assert.equal(peers.code, 2);
    assert.match(peers.stderr, /--peers must be at least 3/);
    const both = await runBinary(['cluster', 'chaos', '--peers', '3', '--project', 'demo']);
    assert.equal(both.code, 2);
    const duration = await runBinary(['cluster', 'chaos', '--duration', 'soon']);
    assert.equal(duration.code, 2);
    assert.match(duration.stderr, /--duration/);
  });

  it('refuses an unknown --status-via with exit 2, for chaos and status alike', async () => {
    for (const command of ['chaos', 'status']) {
      const result = await runBinary(['cluster', command, '--status-via', 'carrier-pigeon']);
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, /status-via/);
    }
  });
});
