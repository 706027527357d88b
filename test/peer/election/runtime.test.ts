import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { createLogger } from '../../../src/log/logger.ts';
import { Election } from '../../../src/peer/election/election.ts';
import { ElectionRuntime, type LeaderAuthority } from '../../../src/peer/election/runtime.ts';
import { DEFAULT_ELECTION_TIMING } from '../../../src/peer/election/timing.ts';
import type { ElectionCertificate, MemberRef } from '../../../src/peer/election/types.ts';
import { seededRandom } from './simulation.ts';

function certificate(epoch: number, seq: number, leader: string): ElectionCertificate {
  const now = Date.now();
  return {
    hash: `${epoch}.${seq}`,
    compact: `c.${epoch}.${seq}`,
    clusterId: 'c1',
    epoch,
    seq,
    leader,
    leaderKey: `k-${leader}`,
    policy: 'highest-id',
    issuedAt: now,
    leaseEndsAt: now + 2000,
  };
}

function harness(authority: Partial<LeaderAuthority>) {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _e, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  const broadcasts: ElectionCertificate[] = [];
  const self: MemberRef = { name: 'peer-a', publicKey: 'k-peer-a' };
  const election = new Election({
    self,
    clusterId: 'c1',
    timing: DEFAULT_ELECTION_TIMING,
    clock: { monoMs: () => performance.now(), wallMs: () => Date.now() },
    random: seededRandom(3),
  });
  const fail = () => Promise.reject(Object.assign(new Error('not expected'), { code: 'E_TEST' }));
  const runtime = new ElectionRuntime({
    election,
    authority: { elect: fail, renew: fail, resign: fail, verify: fail, ...authority },
    channel: { broadcast: (c) => broadcasts.push(c) },
    membership: () => ({ members: [self, { name: 'peer-b', publicKey: 'k-peer-b' }], joined: true }),
    logger: createLogger({ destination: sink, level: 'info', base: {} }),
    tickMs: 5,
  });
  return { runtime, election, lines, broadcasts };
}

const until = async (predicate: () => boolean, ms = 2000) => {
  const end = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > end) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe('election runtime', () => {
  it('asks, renews, leads, gossips, and resigns on shutdown', async () => {
    let seq = 0;
    const resigned: MemberRef[][] = [];
    const { runtime, election, lines, broadcasts } = harness({
      elect: async () => certificate(1, 0, 'peer-a'),
      renew: async () => certificate(1, ++seq, 'peer-a'),
      resign: async (_c, members) => {
        resigned.push(members);
        return certificate(2, 0, 'peer-b');
      },
    });
    runtime.start();
    await until(() => election.status().isLeader);
    const events = lines.map((l) => l.event);
    assert.deepEqual(
      events.filter((e) => e === 'election.requested' || e === 'leader.acquired'),
      ['election.requested', 'leader.acquired'],
    );
    assert.ok(
      broadcasts.some((c) => c.seq >= 1),
      'the renewed certificate is gossiped',
    );
    await runtime.shutdown(500);
    assert.deepEqual(
      resigned[0]?.map((m) => m.name),
      ['peer-b'],
    );
    const released = lines.find((l) => l.event === 'leader.released');
    assert.equal(released?.reason, 'resigned');
    assert.equal(broadcasts.at(-1)?.epoch, 2, 'the hand-over certificate is gossiped');
  });

  it('verifies each gossiped certificate once and counts rejections', async () => {
    let verified = 0;
    const { runtime, lines } = harness({
      verify: async (compact) => {
        verified += 1;
        if (compact === 'forged') throw Object.assign(new Error('bad signature'), { code: 'E_CERT_INVALID' });
        return certificate(3, 0, 'peer-b');
      },
    });
    await runtime.receive('c.3.0');
    await runtime.receive('c.3.0');
    await runtime.receive('forged');
    assert.equal(verified, 2);
    assert.equal(runtime.rejected, 1);
    assert.ok(lines.some((l) => l.event === 'certificate.rejected' && l.reason === 'E_CERT_INVALID'));
    assert.ok(lines.some((l) => l.event === 'certificate.accepted' && l.epoch === 3));
  });
});
