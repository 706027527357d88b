import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cutOff } from '../../src/chaos/injection.ts';
import { eventsFromLog, exitFromEvent, splitLogLine } from '../../src/chaos/recording.ts';
import { resolveScheduled } from '../../src/chaos/run-chaos.ts';
import type { ScheduledFault } from '../../src/chaos/schedule.ts';
import { observationsOf } from '../../src/chaos/status-poller.ts';
import type { ClusterContainer } from '../../src/orchestrator/cluster-inventory.ts';

const container = (name: string, role: 'peer' | 'enclave' = 'peer', state = 'running'): ClusterContainer => ({
  id: `id-${name}`,
  container: `enclave-elect-x-${name}`,
  role,
  name,
  state,
  statusText: '',
  labels: {},
  networks: [],
});

describe('recording log events', () => {
  it('splits a Docker timestamp (nanoseconds) from the line', () => {
    assert.deepEqual(splitLogLine('2026-11-24T23:32:05.123456789Z {"a":1}'), {
      t: Date.parse('2026-11-24T23:32:05.123Z'),
      text: '{"a":1}',
    });
    assert.deepEqual(splitLogLine('no timestamp here'), { t: null, text: 'no timestamp here' });
  });

  it('keeps pino events, with the peer’s own time, and skips other lines', () => {
    const log = [
      '2026-11-24T23:32:05.500000000Z {"time":"2026-11-24T23:32:05.400Z","peer":"peer-2","epoch":3,"event":"leader.acquired"}',
      '2026-11-24T23:32:06.000000000Z plain text from node',
      '2026-11-24T23:32:06.100000000Z {"level":30,"msg":"no event field"}',
      '2026-11-24T23:32:07.000000000Z {"time":1795563127000,"event":"leader.released","epoch":3,"reason":"expired","stoppedAt":"2026-11-24T23:32:06.900Z"}',
      '2026-11-24T23:32:08.000000000Z {"event":"certificate.rejected","reason":"E_CERT_INVALID","error":"bad signature"}',
    ].join('\n');
    const events = eventsFromLog(log, 'peer-2');
    assert.deepEqual(
      events.map((e) => [e.event, e.peer, e.t]),
      [
        ['leader.acquired', 'peer-2', Date.parse('2026-11-24T23:32:05.400Z')],
        ['leader.released', 'peer-2', 1795563127000],
        ['certificate.rejected', 'peer-2', Date.parse('2026-11-24T23:32:08Z')],
      ],
    );
    assert.equal(events[1]?.stoppedAt, Date.parse('2026-11-24T23:32:06.900Z'));
    assert.equal(events[2]?.error, 'bad signature');
  });

  it('turns a Docker die event into a named exit with its code', () => {
    const exit = exitFromEvent(
      {
        Action: 'die',
        timeNano: 1_795_563_127_123_456_800,
        Actor: { ID: 'id-peer-3', Attributes: { exitCode: '137', name: 'enclave-elect-x-peer-3' } },
      },
      [container('peer-3')],
    );
    assert.equal(exit?.name, 'peer-3');
    assert.equal(exit?.exitCode, 137);
    assert.ok(Math.abs((exit?.t ?? 0) - 1_795_563_127_123) <= 1);
    assert.equal(exitFromEvent({ Action: 'start' }, []), null);
  });
});

describe('applying the schedule to the cluster as it is', () => {
  const peers = ['peer-1', 'peer-2', 'peer-3', 'peer-4', 'peer-5'].map((n) => container(n));
  const all = [container('enclave', 'enclave'), ...peers];
  const fault = (extra: Partial<ScheduledFault>): ScheduledFault => ({
    index: 1,
    kind: 'kill',
    gapMs: 0,
    target: 'leader',
    holdMs: 1000,
    ...extra,
  });

  it('resolves `leader` to the agreed leader and refuses what cannot take the fault', () => {
    assert.equal((resolveScheduled(fault({}), all, 'peer-4') as ClusterContainer).name, 'peer-4');
    assert.equal(resolveScheduled(fault({}), all, null), 'no leader is agreed on');
    const stopped = [container('enclave', 'enclave'), container('peer-1', 'peer', 'exited')];
    assert.equal(resolveScheduled(fault({ target: 'peer-1' }), stopped, null), 'peer-1 is exited');
    assert.equal(
      (resolveScheduled(fault({ kind: 'enclave-restart', target: 'enclave' }), all, null) as ClusterContainer)
        .role,
      'enclave',
    );
  });

  it('cuts off the target and its group in a partition, never a majority', () => {
    const group = cutOff(fault({ kind: 'partition', with: ['peer-1', 'peer-5'] }), peers[2]!, peers);
    assert.deepEqual(
      group.map((p) => p.name),
      ['peer-3', 'peer-1'],
    );
    assert.deepEqual(
      cutOff(fault({ kind: 'pause' }), peers[0]!, peers).map((p) => p.name),
      ['peer-1'],
    );
  });

  it('marks cut-off and stopped peers as not live in an observation round', () => {
    const round = {
      startedAt: 1,
      t: 2,
      report: {
        cluster: 'x',
        agreed: false,
        leader: 'peer-1',
        epoch: 2,
        peers: [
          {
            container: 'c1',
            name: 'peer-1',
            state: 'running',
            error: null,
            status: { leader: { name: 'peer-1', epoch: 2, verified: true } },
          },
          {
            container: 'c2',
            name: 'peer-2',
            state: 'running',
            error: null,
            status: { leader: { name: 'peer-1', epoch: 2 } },
          },
          { container: 'c3', name: 'peer-3', state: 'exited', error: 'container is exited', status: null },
        ],
      },
    };
    const obs = observationsOf(round, new Set(['peer-2']));
    assert.deepEqual(
      obs.map((o) => [o.peer, o.live, o.leader, o.verified, o.from]),
      [
        ['peer-1', true, 'peer-1', true, 1],
        ['peer-2', false, 'peer-1', true, 1],
        ['peer-3', false, null, false, 1],
      ],
    );
  });
});
