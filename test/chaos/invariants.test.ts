import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { eventFromLogLine, type History, type HistoryEvent } from '../../src/chaos/history.ts';
import {
  agreementAfterHeals,
  checkHistory,
  equivocations,
  foreignLeaders,
  leaderIntervals,
  overlappingLeaders,
  rejectedCertificates,
} from '../../src/chaos/invariants.ts';

const T0 = 1_800_000_000_000;

function history(events: HistoryEvent[], extra: Partial<History> = {}): History {
  return {
    leaseMs: 2000,
    startedAt: T0,
    endedAt: T0 + 60_000,
    events,
    faults: [],
    observations: [],
    ...extra,
  };
}

const acquired = (peer: string, t: number, epoch: number): HistoryEvent => ({
  t: T0 + t,
  peer,
  event: 'leader.acquired',
  epoch,
});
const released = (
  peer: string,
  t: number,
  epoch: number,
  stoppedAt = t,
  reason = 'expired',
): HistoryEvent => ({
  t: T0 + t,
  peer,
  event: 'leader.released',
  epoch,
  reason,
  stoppedAt: T0 + stoppedAt,
});
const accepted = (peer: string, t: number, epoch: number, leader: string): HistoryEvent => ({
  t: T0 + t,
  peer,
  event: 'certificate.accepted',
  epoch,
  leader,
});

describe('invariant 1: one leader per epoch', () => {
  it('holds when every certificate of an epoch names the same leader', () => {
    const v = equivocations(
      history([accepted('a', 0, 1, 'a'), accepted('b', 5, 1, 'a'), accepted('b', 3000, 2, 'b')]),
    );
    assert.equal(v.ok, true, v.summary);
  });
  it('fails on an equivocating epoch and names both leaders', () => {
    const v = equivocations(history([accepted('a', 0, 4, 'a'), accepted('b', 5, 4, 'c')]));
    assert.equal(v.ok, false);
    assert.deepEqual((v.offending[0] as { leaders: string[] }).leaders, ['a', 'c']);
  });
});

describe('invariant 2: leader intervals never overlap', () => {
  it('holds for back-to-back intervals (release at t, next acquires at t)', () => {
    const v = overlappingLeaders(
      history([acquired('a', 0, 1), released('a', 2000, 1), acquired('b', 2000, 2), released('b', 4000, 2)]),
    );
    assert.equal(v.ok, true, v.summary);
  });
  it('fails on an overlap of 1 ms', () => {
    const v = overlappingLeaders(
      history([acquired('a', 0, 1), released('a', 2001, 1), acquired('b', 2000, 2)]),
    );
    assert.equal(v.ok, false);
    assert.equal((v.offending[0] as { overlapMs: number }).overlapMs, 1);
  });
  it('uses stoppedAt of a paused leader that logs its release only on resume', () => {
    const events = [acquired('a', 0, 1), acquired('b', 4000, 2), released('a', 9000, 1, 1800)];
    assert.equal(overlappingLeaders(history(events)).ok, true);
    const late = [acquired('a', 0, 1), acquired('b', 4000, 2), released('a', 9000, 1, 4001)];
    assert.equal(overlappingLeaders(history(late)).ok, false);
  });
  it('ends an unreleased interval when the process was killed', () => {
    const h = history([acquired('a', 0, 1), acquired('b', 3000, 2)], {
      faults: [{ kind: 'kill', target: 'a', start: T0 + 1000, heal: T0 + 5000, endsProcess: true }],
    });
    const intervals = leaderIntervals(h);
    assert.deepEqual(
      intervals.map((i) => [i.peer, i.to - T0, i.end]),
      [
        ['a', 1000, 'process-ended'],
        ['b', 60_000, 'open'],
      ],
    );
    assert.equal(overlappingLeaders(h).ok, true);
  });
  it('fails when an unreleased leader is still open while another acquires', () => {
    assert.equal(overlappingLeaders(history([acquired('a', 0, 1), acquired('b', 3000, 2)])).ok, false);
  });
});

describe('invariant 3: agreement after each heal', () => {
  const observe = (t: number, leaders: (string | null)[], epoch = 2) =>
    leaders.map((leader, i) => ({
      t: T0 + t,
      peer: `p${i}`,
      live: true,
      leader,
      epoch,
      verified: leader !== null,
    }));

  it('measures the time from heal to the first round where all live peers agree', () => {
    const h = history([], {
      faults: [{ kind: 'pause', target: 'p0', start: T0, heal: T0 + 1000 }],
      observations: [...observe(1000, ['p1', null, 'p1']), ...observe(1500, ['p1', 'p1', 'p1'])],
    });
    assert.deepEqual(agreementAfterHeals(h), [{ heal: T0 + 1000, tookMs: 500, observedMs: 500, bootMs: 0 }]);
    assert.equal(checkHistory(h)[2]?.ok, true);
  });
  it('fails when peers never agree after a heal', () => {
    const h = history([], {
      faults: [{ kind: 'partition', target: 'p0', start: T0, heal: T0 + 1000 }],
      observations: [...observe(1500, ['p1', 'p2', 'p1']), ...observe(9000, ['p1', 'p2', 'p1'])],
    });
    const v = checkHistory(h)[2]!;
    assert.equal(v.ok, false);
    assert.match(v.summary, /0\/1 heals/);
  });
  it('fails when agreement comes later than lease + 2 s', () => {
    const h = history([], {
      faults: [{ kind: 'kill', target: 'p0', start: T0, heal: T0 + 1000 }],
      observations: observe(1000 + 4001, ['p1', 'p1', 'p1']),
    });
    assert.equal(checkHistory(h)[2]?.ok, false);
  });
  it('ignores peers that are not live', () => {
    const h = history([], {
      faults: [{ kind: 'kill', target: 'p0', start: T0, heal: T0 + 1000 }],
      observations: [
        { t: T0 + 1200, peer: 'p0', live: false, leader: null, epoch: null, verified: false },
        ...observe(1200, ['p1', 'p1']).map((o, i) => ({ ...o, peer: `q${i}` })),
      ],
    });
    assert.deepEqual(agreementAfterHeals(h), [{ heal: T0 + 1000, tookMs: 200, observedMs: 200, bootMs: 0 }]);
  });
});

describe('log lines into history events', () => {
  it('reads pino JSON with ISO times, and skips non-events', () => {
    const line = JSON.stringify({
      level: 'info',
      time: '2026-11-24T10:00:00.000Z',
      peer: 'peer-2',
      event: 'leader.released',
      epoch: 3,
      reason: 'expired',
      stoppedAt: '2026-11-24T09:59:59.500Z',
    });
    assert.deepEqual(eventFromLogLine(line, 'x', 0), {
      t: Date.parse('2026-11-24T10:00:00.000Z'),
      peer: 'peer-2',
      event: 'leader.released',
      epoch: 3,
      reason: 'expired',
      stoppedAt: Date.parse('2026-11-24T09:59:59.500Z'),
    });
    assert.equal(eventFromLogLine('not json', 'x', 0), null);
    assert.equal(eventFromLogLine('{"msg":"hello"}', 'x', 0), null);
  });
});

describe('invariant: leaders are admitted members with their keys (issue 14)', () => {
  const started = (peer: string, key: string): HistoryEvent => ({ t: T0, peer, event: 'peer.started', key });
  const accepted = (peer: string, leader: string, leaderKey: string): HistoryEvent => ({
    t: T0 + 100,
    peer,
    event: 'certificate.accepted',
    epoch: 1,
    leader,
    leaderKey,
  });

  it('holds when every accepted certificate names a peer of the run with the key it started with', () => {
    const v = foreignLeaders(history([started('p1', 'k1'), started('p2', 'k2'), accepted('p2', 'p1', 'k1')]));
    assert.equal(v.ok, true, v.summary);
  });

  it('fails on an outsider named leader, and on a member’s name with another key', () => {
    const outsider = foreignLeaders(history([started('p1', 'k1'), accepted('p1', 'mallory', 'km')]));
    assert.equal(outsider.ok, false);
    assert.match(outsider.summary, /mallory/);
    const impostor = foreignLeaders(history([started('p1', 'k1'), accepted('p1', 'p1', 'km')]));
    assert.equal(impostor.ok, false);
  });

  it('checks against admissions when the run logged them, not against started keys', () => {
    const admitted: HistoryEvent = { t: T0, peer: 'p1', event: 'admission.granted', key: 'k1-admitted' };
    const v = foreignLeaders(history([started('p1', 'k1'), admitted, accepted('p2', 'p1', 'k1')]));
    assert.equal(v.ok, false);
    const ok = foreignLeaders(history([started('p1', 'k1'), admitted, accepted('p2', 'p1', 'k1-admitted')]));
    assert.equal(ok.ok, true);
  });

  it("takes the enclave's own admissions too: a leader recreated during the run (new key, new log) still names its earlier admitted key", () => {
    // Arming clocks recreates a peer: its old container's log, with the old key, is gone; the enclave's log keeps the admission.
    const enclaveAdmitted: HistoryEvent = {
      t: T0,
      peer: 'enclave',
      event: 'enclave.admitted',
      member: 'p1',
      key: 'k1-old',
    };
    const regranted: HistoryEvent = { t: T0 + 50, peer: 'p1', event: 'admission.granted', key: 'k1-new' };
    const without = foreignLeaders(history([regranted, accepted('p2', 'p1', 'k1-old')]));
    assert.equal(without.ok, false, 'the old key is unknown without the enclave log');
    const v = foreignLeaders(history([enclaveAdmitted, regranted, accepted('p2', 'p1', 'k1-old')]));
    assert.equal(v.ok, true, v.summary);
    const wrongName = foreignLeaders(history([enclaveAdmitted, regranted, accepted('p2', 'p2', 'k1-old')]));
    assert.equal(wrongName.ok, false, 'a key admitted to p1 does not make p2 a member with it');
  });

  it('reads the member and key of an enclave.admitted log line', () => {
    const line = JSON.stringify({ time: T0, event: 'enclave.admitted', name: 'p1', key: 'k1', serial: 4 });
    const e = eventFromLogLine(line, 'enclave', 0);
    assert.deepEqual([e?.member, e?.key], ['p1', 'k1']);
  });

  it('reads the leader key from a certificate.accepted log line', () => {
    const line = JSON.stringify({
      time: T0,
      peer: 'p2',
      event: 'certificate.accepted',
      epoch: 3,
      leader: 'p1',
      leaderKey: 'k1',
    });
    assert.equal(eventFromLogLine(line, 'x', 0)?.leaderKey, 'k1');
  });
});

describe('invariant: no certificate rejected as invalid', () => {
  const rejected = (peer: string, t: number): HistoryEvent => ({
    t: T0 + t,
    peer,
    event: 'certificate.rejected',
    reason: 'E_CERT_INVALID',
    epoch: 3,
  });
  const corrupt = { kind: 'corrupt', target: 'peer-1', start: T0 + 10_000, heal: T0 + 15_000 };

  it('fails on a rejection no fault explains', () => {
    const verdict = rejectedCertificates(history([rejected('peer-2', 5000)], { faults: [corrupt] }));
    assert.equal(verdict.ok, false);
    assert.equal(verdict.offending.length, 1);
  });

  it("explains other peers' rejections while a corrupt fault garbles the sender, up to 1 s after its heal", () => {
    const verdict = rejectedCertificates(
      history([rejected('peer-2', 10_500), rejected('peer-3', 15_900)], { faults: [corrupt] }),
    );
    assert.equal(verdict.ok, true, verdict.summary);
    assert.match(
      verdict.summary,
      /2 invalid while a corrupt fault garbled the sender's datagrams, as they should be/,
    );
  });

  it('does not explain a rejection by the corrupted peer itself, nor one after the slack', () => {
    const verdict = rejectedCertificates(
      history([rejected('peer-1', 12_000), rejected('peer-2', 16_500)], { faults: [corrupt] }),
    );
    assert.deepEqual(
      verdict.offending.map((e) => (e as HistoryEvent).peer),
      ['peer-1', 'peer-2'],
    );
  });
});
