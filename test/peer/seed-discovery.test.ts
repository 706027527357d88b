import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type DiscoveryReport, SeedDiscovery } from '../../src/peer/discovery/seed-discovery.ts';
import { ManualClock } from '../../src/time/clock.ts';

function fakeTarget() {
  const target = {
    joined: false,
    known: new Set<string>(),
    calls: [] as string[][],
    knowsAddress: (a: string) => target.known.has(a),
    join: (addresses: readonly string[]) => {
      target.calls.push([...addresses]);
    },
  };
  return target;
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('seed discovery', () => {
  it('joins every resolved address except itself and backs off while nobody answers', async () => {
    const clock = new ManualClock();
    const target = fakeTarget();
    const reports: DiscoveryReport[] = [];
    const discovery = new SeedDiscovery({
      seeds: [{ host: 'peer', port: 7946 }],
      target,
      isSelf: (a) => a === '10.0.0.1:7946',
      clock,
      lookup: async () => ['10.0.0.1', '10.0.0.2', '10.0.0.3'],
      resolveIntervalMs: 10_000,
      retryMaxMs: 4000,
      report: (r) => reports.push(r),
    });
    await discovery.start();
    assert.deepEqual(
      target.calls.map((call) => call.sort()),
      [['10.0.0.2:7946', '10.0.0.3:7946']],
    );
    const waits: unknown[] = [];
    for (let i = 0; i < 5; i++) {
      clock.advance(5000);
      await flush();
    }
    for (const r of reports) if (r.event === 'join.waiting') waits.push(r.retryInMs);
    assert.deepEqual(waits.slice(0, 4), [1000, 2000, 4000, 4000]);
    assert.ok(target.calls.length >= 3);
    discovery.stop();
  });

  it('after joining, re-resolves and contacts only replicas it does not know', async () => {
    const clock = new ManualClock();
    const target = fakeTarget();
    let replicas = ['10.0.0.2'];
    const discovery = new SeedDiscovery({
      seeds: [{ host: 'peer', port: 7946 }],
      target,
      isSelf: () => false,
      clock,
      lookup: async () => replicas,
      resolveIntervalMs: 10_000,
      retryMaxMs: 30_000,
    });
    await discovery.start();
    target.joined = true;
    target.known.add('10.0.0.2:7946');
    replicas = ['10.0.0.2', '10.0.0.9'];
    clock.advance(1000);
    clock.advance(10_000);
    await flush();
    assert.deepEqual(target.calls.at(-1), ['10.0.0.9:7946']);
    discovery.stop();
  });

  it('contacts at most three unknown replicas per round', async () => {
    const target = fakeTarget();
    const discovery = new SeedDiscovery({
      seeds: [{ host: 'peer', port: 7946 }],
      target,
      isSelf: () => false,
      clock: new ManualClock(),
      lookup: async () => Array.from({ length: 50 }, (_, i) => `10.0.1.${i + 1}`),
      resolveIntervalMs: 10_000,
      retryMaxMs: 30_000,
    });
    await discovery.start();
    assert.equal(target.calls[0]?.length, 3);
    discovery.stop();
  });

  it('is alone, not stuck, when the seed name resolves only to itself', async () => {
    const discovery = new SeedDiscovery({
      seeds: [{ host: 'peer', port: 7946 }],
      target: fakeTarget(),
      isSelf: () => true,
      clock: new ManualClock(),
      lookup: async () => ['10.0.0.1'],
      resolveIntervalMs: 10_000,
      retryMaxMs: 30_000,
    });
    await discovery.start();
    assert.equal(discovery.alone, true);
    discovery.stop();
  });
});
