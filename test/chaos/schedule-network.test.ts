import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CLASSIC_KINDS,
  CLOCK_BOUND_MS,
  FAULT_KINDS,
  generateSchedule,
  NEMESIS_PROFILES,
  NETWORK_KINDS,
} from '../../src/chaos/schedule.ts';
import { runBinary } from '../support/run-cli.ts';

const PEERS = ['peer-1', 'peer-2', 'peer-3', 'peer-4', 'peer-5'];
const base = { seed: 'n1', durationMs: 3_600_000, intervalMs: 5000, faults: NETWORK_KINDS, peers: PEERS };

describe('network fault kinds in the schedule', () => {
  const schedule = generateSchedule(base);

  it('gives delay a delay of 50-300 ms, jitter up to half of it, and sometimes reordering', () => {
    const delays = schedule.filter((f) => f.kind === 'delay');
    assert.ok(delays.length > 20);
    for (const { net } of delays) {
      assert.ok(net!.delayMs! >= 50 && net!.delayMs! <= 300, JSON.stringify(net));
      assert.ok(net!.jitterMs! >= 0 && net!.jitterMs! <= net!.delayMs! / 2, JSON.stringify(net));
      if (net!.reorderPercent !== undefined)
        assert.ok(net!.reorderPercent >= 10 && net!.reorderPercent <= 30);
    }
    assert.ok(delays.some((f) => f.net!.reorderPercent !== undefined));
    assert.ok(delays.some((f) => f.net!.reorderPercent === undefined));
  });

  it('draws loss as random (5-40%) or bursty (Gilbert-Elliott p 2-10%, r 10-50%), both in a long run', () => {
    const losses = schedule.filter((f) => f.kind === 'loss').map((f) => f.net!);
    const random = losses.filter((n) => n.lossPercent !== undefined);
    const bursty = losses.filter((n) => n.lossBurst !== undefined);
    assert.ok(random.length > 0 && bursty.length > 0);
    for (const n of random) assert.ok(n.lossPercent! >= 5 && n.lossPercent! <= 40);
    for (const { lossBurst } of bursty) {
      assert.ok(lossBurst!.p >= 2 && lossBurst!.p <= 10 && lossBurst!.r >= 10 && lossBurst!.r <= 50);
      assert.deepEqual([lossBurst!.lossBad, lossBurst!.lossGood], [100, 0]);
    }
  });

  it('gives duplicate and corrupt a share of 5-30%', () => {
    for (const f of schedule.filter((f) => f.kind === 'duplicate')) {
      assert.ok(f.net!.duplicatePercent! >= 5 && f.net!.duplicatePercent! <= 30);
    }
    for (const f of schedule.filter((f) => f.kind === 'corrupt')) {
      assert.ok(f.net!.corruptPercent! >= 5 && f.net!.corruptPercent! <= 30);
    }
  });

  it('points one-way cuts both ways over a run, and holds link cuts 2-6 s and shaping 3-8 s', () => {
    const oneWay = schedule.filter((f) => f.kind === 'one-way');
    assert.deepEqual(new Set(oneWay.map((f) => f.direction)), new Set(['mute', 'deaf']));
    for (const f of schedule) {
      const [lo, hi] = ['one-way', 'ring', 'bridge'].includes(f.kind) ? [2000, 6000] : [3000, 8000];
      assert.ok(f.holdMs >= lo && f.holdMs <= hi, `${f.kind} held ${f.holdMs}`);
    }
  });

  it('adds nothing to the classic kinds: their faults carry no net parameters or direction', () => {
    const classic = generateSchedule({ ...base, faults: CLASSIC_KINDS });
    assert.ok(classic.every((f) => f.net === undefined && f.direction === undefined));
  });

  it('holds a peer to 5-25% of one CPU for 3-8 s', () => {
    const cpu = generateSchedule({ ...base, faults: ['cpu'] });
    assert.ok(cpu.length > 20);
    for (const f of cpu) {
      assert.ok(f.cpuSharePercent! >= 5 && f.cpuSharePercent! <= 25, `share ${f.cpuSharePercent}`);
      assert.ok(f.holdMs >= 3000 && f.holdMs <= 8000);
    }
  });

  it('moves a clock within the documented bound, either way, half the time as a strobe', () => {
    const clock = generateSchedule({ ...base, faults: ['clock'] });
    assert.ok(clock.length > 20);
    for (const f of clock) {
      const size = Math.abs(f.clock!.offsetMs);
      assert.ok(size >= 50 && size < CLOCK_BOUND_MS, `offset ${f.clock!.offsetMs}`);
      const period = f.clock!.strobePeriodMs;
      assert.ok(period === undefined || (period >= 250 && period <= 1000), `period ${period}`);
      assert.ok(f.holdMs >= 3000 && f.holdMs <= 8000);
    }
    assert.ok(clock.some((f) => f.clock!.offsetMs < 0) && clock.some((f) => f.clock!.offsetMs > 0));
    assert.ok(clock.some((f) => f.clock!.strobePeriodMs !== undefined));
    assert.ok(clock.some((f) => f.clock!.strobePeriodMs === undefined));
  });

  it('loads the host with 1-4 busy workers for 3-8 s', () => {
    const hog = generateSchedule({ ...base, faults: ['host-cpu'] });
    for (const f of hog) {
      assert.ok(f.hogWorkers! >= 1 && f.hogWorkers! <= 4, `workers ${f.hogWorkers}`);
      assert.ok(f.holdMs >= 3000 && f.holdMs <= 8000);
    }
  });

  it('the host profile is cpu, clock and host-cpu', () => {
    assert.deepEqual([...NEMESIS_PROFILES.host!], ['cpu', 'clock', 'host-cpu']);
  });

  it('jepsen mixes every kind, each within the first round', () => {
    assert.deepEqual(new Set(NEMESIS_PROFILES.jepsen), new Set(FAULT_KINDS));
    const jepsen = generateSchedule({ ...base, faults: NEMESIS_PROFILES.jepsen! });
    assert.deepEqual(new Set(jepsen.slice(0, FAULT_KINDS.length).map((f) => f.kind)), new Set(FAULT_KINDS));
  });
});

describe('enclave-elect cluster chaos --nemesis-profile', () => {
  it('--dry-run prints a jepsen schedule with every kind and each network fault with its parameters', async () => {
    const result = await runBinary([
      'cluster',
      'chaos',
      '--dry-run',
      '--seed',
      'j1',
      '--duration',
      '5m',
      '--peers',
      '5',
      '--nemesis-profile',
      'jepsen',
    ]);
    assert.equal(result.code, 0, result.stderr);
    const printed = JSON.parse(result.stdout) as { kind: string; net?: object }[];
    assert.deepEqual(new Set(printed.map((f) => f.kind)), new Set(FAULT_KINDS));
    const delay = printed.find((f) => f.kind === 'delay')!;
    assert.ok(delay.net !== undefined && 'delayMs' in delay.net);
    const clock = printed.find((f) => f.kind === 'clock') as { clock?: { offsetMs: number } } | undefined;
    assert.ok(clock?.clock !== undefined && Math.abs(clock.clock.offsetMs) < CLOCK_BOUND_MS);
    const hog = printed.find((f) => f.kind === 'host-cpu') as { hogWorkers?: number } | undefined;
    assert.ok(hog?.hogWorkers !== undefined);
  });

  it('refuses an unknown profile, and a profile together with --faults, with exit 2', async () => {
    const unknown = await runBinary(['cluster', 'chaos', '--dry-run', '--nemesis-profile', 'chaos-monkey']);
    assert.equal(unknown.code, 2);
    assert.match(
      unknown.stderr,
      /--nemesis-profile 'chaos-monkey' is not one of classic, network, host, jepsen/,
    );
    const both = await runBinary([
      'cluster',
      'chaos',
      '--dry-run',
      '--faults',
      'kill',
      '--nemesis-profile',
      'jepsen',
    ]);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /--faults and --nemesis-profile both choose the kinds; give one of them/);
  });
});
