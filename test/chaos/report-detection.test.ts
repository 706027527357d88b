import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FaultRecord, History, HistoryEvent } from '../../src/chaos/history.ts';
import { eventFromLogLine } from '../../src/chaos/history.ts';
import { DETECTION_GRACE_MS, detectionSeries, detectionStats } from '../../src/chaos/report-detection.ts';

const T0 = 1_800_000_000_000;

/** `observer` logs that `member` (at `incarnation`) is dead, as declared by `from`. */
const dead = (
  observer: string,
  t: number,
  member: string,
  incarnation = 1,
  from = observer,
): HistoryEvent => ({
  t: T0 + t,
  peer: observer,
  event: 'member.dead',
  member,
  incarnation,
  from,
});
const fault = (kind: string, target: string, start: number, heal: number, peers?: string[]): FaultRecord => ({
  kind,
  target,
  start: T0 + start,
  heal: T0 + heal,
  ...(peers ? { peers } : {}),
});
const history = (events: HistoryEvent[], faults: FaultRecord[]): History => ({
  peers: ['a', 'b', 'c', 'd', 'e'],
  leaseMs: 2000,
  startedAt: T0,
  endedAt: T0 + 120_000,
  events,
  faults,
  observations: [],
});

describe('failure detection latency', () => {
  it('is the time from a kill to the first member.dead about the killed peer, from any observer', () => {
    const h = history(
      [dead('c', 12_900, 'a', 1, 'b'), dead('b', 12_700, 'a'), dead('d', 13_100, 'a', 1, 'b')],
      [fault('kill', 'a', 10_000, 14_000)],
    );
    const { detections } = detectionSeries(h);
    assert.equal(detections.length, 1);
    assert.deepEqual(detections[0], {
      fault: 1,
      kind: 'kill',
      member: 'a',
      start: T0 + 10_000,
      detectedAt: T0 + 12_700,
      latencyMs: 2700,
      by: 'b',
      how: 'dead',
    });
  });

  it('counts a graceful leave (member.left) as the detection of a stop', () => {
    const left: HistoryEvent = {
      t: T0 + 20_050,
      peer: 'c',
      event: 'member.left',
      member: 'b',
      incarnation: 3,
    };
    const { detections } = detectionSeries(history([left], [fault('stop', 'b', 20_000, 22_000)]));
    assert.equal(detections[0]?.latencyMs, 50);
    assert.equal(detections[0]?.how, 'left');
  });

  it('reports a kill nobody noticed before the peer came back as undetected, not as zero', () => {
    const h = history([dead('b', 4000, 'a')], [fault('kill', 'a', 10_000, 11_000)]);
    const { detections } = detectionSeries(h);
    assert.equal(detections[0]?.latencyMs, null);
    assert.equal(detections[0]?.detectedAt, null);
    assert.deepEqual(detectionStats(detectionSeries(h)), {
      detected: 0,
      undetected: 1,
      p50Ms: null,
      maxMs: null,
      falsePositives: 1,
    });
  });

  it('accepts a declaration made within the grace after the heal, but not one after the next fault began', () => {
    const h = history(
      [dead('b', 11_000 + DETECTION_GRACE_MS - 1, 'a'), dead('b', 31_500, 'c')],
      [
        fault('kill', 'a', 10_000, 11_000),
        fault('kill', 'c', 30_000, 31_000),
        fault('kill', 'a', 40_000, 41_000),
      ],
    );
    const [first, second, third] = detectionSeries(h).detections;
    assert.equal(first?.latencyMs, 1000 + DETECTION_GRACE_MS - 1);
    assert.equal(second?.latencyMs, 1500);
    assert.equal(third?.latencyMs, null);
  });

  it('measures each peer a fault took away on its own, and ignores faults that leave processes running', () => {
    const h = history(
      [dead('c', 3000, 'a'), dead('c', 3500, 'b')],
      [fault('kill', 'a', 1000, 5000, ['a', 'b']), fault('delay', 'c', 50_000, 55_000)],
    );
    assert.deepEqual(
      detectionSeries(h).detections.map((d) => [d.member, d.latencyMs]),
      [
        ['a', 2000],
        ['b', 2500],
      ],
    );
  });
});

describe('false positives', () => {
  it('counts one declaration per member and incarnation, however many peers log it', () => {
    const h = history(
      [dead('b', 60_000, 'e', 4, 'b'), dead('c', 60_200, 'e', 4, 'b'), dead('d', 60_300, 'e', 4, 'b')],
      [fault('loss', 'e', 55_000, 62_000)],
    );
    assert.deepEqual(detectionSeries(h).falsePositives, [
      { t: T0 + 60_000, member: 'e', incarnation: 4, from: 'b', observers: 3 },
    ]);
  });

  it('counts a live member declared dead while it was only slow or lossy (cpu, loss, delay)', () => {
    const h = history(
      [dead('b', 20_000, 'a', 1), dead('b', 40_000, 'a', 2), dead('c', 60_000, 'd', 7)],
      [fault('cpu', 'a', 18_000, 22_000), fault('delay', 'a', 38_000, 43_000)],
    );
    assert.equal(detectionSeries(h).falsePositives.length, 3);
  });

  it('does not count a member cut off, paused, killed or restarted, nor one declared by a peer cut off itself', () => {
    const h = history(
      [
        dead('b', 2000, 'a', 1), // a paused
        dead('a', 12_000, 'c', 1, 'a'), // the declarer a is on the isolated side of a partition
        dead('b', 13_000, 'a', 2), // and a itself is cut off
        dead('b', 22_000, 'd', 1), // a ring cuts every peer's links
        dead('b', 35_000 + DETECTION_GRACE_MS - 1, 'e', 1), // a restart of e, just inside the grace
      ],
      [
        fault('pause', 'a', 1000, 3000),
        fault('partition', 'a', 10_000, 14_000, ['a']),
        fault('ring', 'b', 20_000, 24_000, ['b', 'a', 'c', 'd', 'e']),
        fault('restart', 'e', 34_000, 35_000),
      ],
    );
    assert.deepEqual(detectionSeries(h).falsePositives, []);
  });

  it('counts a declaration past the grace after the excusing fault healed', () => {
    const h = history([dead('b', 3000 + DETECTION_GRACE_MS + 1, 'a', 1)], [fault('pause', 'a', 1000, 3000)]);
    assert.equal(detectionSeries(h).falsePositives.length, 1);
  });

  it('ignores member.dead lines that do not name the member (histories from before it was recorded)', () => {
    const old: HistoryEvent = { t: T0 + 5000, peer: 'b', event: 'member.dead' };
    assert.deepEqual(detectionSeries(history([old], [])), { detections: [], falsePositives: [] });
  });
});

describe('detection totals', () => {
  it('gives p50 and max over the detected faults and the number of false positives', () => {
    const h = history(
      [dead('b', 12_000, 'a'), dead('b', 33_000, 'c'), dead('c', 50_000, 'd', 9)],
      [
        fault('kill', 'a', 10_000, 14_000),
        fault('kill', 'c', 30_000, 34_000),
        fault('kill', 'e', 40_000, 40_500),
      ],
    );
    assert.deepEqual(detectionStats(detectionSeries(h)), {
      detected: 2,
      undetected: 1,
      p50Ms: 2000,
      maxMs: 3000,
      falsePositives: 1,
    });
  });
});

describe('reading membership events from a peer log line', () => {
  it('keeps the member, its incarnation and who declared it', () => {
    const line = JSON.stringify({
      time: '2027-01-15T08:00:00.000Z',
      peer: 'peer-2',
      event: 'member.dead',
      member: 'peer-4',
      incarnation: 12,
      from: 'peer-3',
    });
    const e = eventFromLogLine(line, 'x', 0);
    assert.equal(e?.member, 'peer-4');
    assert.equal(e?.incarnation, 12);
    assert.equal(e?.from, 'peer-3');
  });
});
