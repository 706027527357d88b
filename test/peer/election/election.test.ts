import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LeaderCertificate } from '../../../src/crypto/leader-certificate.ts';
import { Election } from '../../../src/peer/election/election.ts';
import {
  actingWindowEnd,
  backoffMs,
  DEFAULT_ELECTION_TIMING,
  designatedAskers,
  followerGraceMs,
  REOFFER_INTERVAL_MS,
} from '../../../src/peer/election/timing.ts';
import type { ElectionEffect } from '../../../src/peer/election/types.ts';
import { seededRandom } from '../../../src/random/seeded-random.ts';
import { type CertificateFields, testCertificate } from './certificates.ts';
import { Simulation } from './simulation.ts';

function cert(overrides: Partial<CertificateFields> = {}): LeaderCertificate {
  return testCertificate({
    clusterId: 'c1',
    epoch: 1,
    seq: 0,
    leader: 'peer-b',
    leaderKey: 'kb',
    policy: 'vrf',
    issuedAt: 10_000,
    leaseEndsAt: 12_000,
    ...overrides,
  });
}

function election(wall = 10_000) {
  const clock = { mono: 500, wall };
  const e = new Election({
    self: { name: 'peer-a', publicKey: 'ka' },
    clusterId: 'c1',
    timing: DEFAULT_ELECTION_TIMING,
    clock: { now: () => clock.mono, wallNow: () => clock.wall },
    random: seededRandom(1),
  });
  const advance = (ms: number) => {
    clock.mono += ms;
    clock.wall += ms;
  };
  return { e, clock, advance };
}

const view = { members: [{ name: 'peer-a', publicKey: 'ka' }], joined: true };

/** peer-a is granted a lease and renews it once: it now acts as leader. */
function leading() {
  const ctx = election();
  const granted = cert({ leader: 'peer-a' });
  ctx.e.offer(granted);
  const renew = ctx.e.tick(view).find((x) => x.type === 'renew');
  assert.ok(renew && renew.type === 'renew');
  ctx.e.succeeded('renew', renew.sentAt, cert({ leader: 'peer-a', seq: 1 }), granted);
  assert.equal(ctx.e.status().isLeader, true);
  return ctx;
}

describe('election timing', () => {
  it('ends the acting window a margin before sentAt + lease', () => {
    assert.equal(actingWindowEnd(1000, 2000, 200), 2800);
  });
  it('lets non-designated followers wait about log2(N) renewal hops, never less than the base', () => {
    assert.equal(followerGraceMs(600, 2000, 1), 600);
    assert.equal(followerGraceMs(600, 2000, 5), 1500);
    assert.equal(followerGraceMs(600, 2000, 50), 3000);
    assert.equal(followerGraceMs(600, 2000, 1000), 5000);
  });
  it('backs off exponentially with jitter, within bounds', () => {
    const random = seededRandom(7);
    for (let attempt = 0; attempt < 12; attempt++) {
      const delay = backoffMs(attempt, DEFAULT_ELECTION_TIMING, random);
      assert.ok(
        delay >= DEFAULT_ELECTION_TIMING.minBackoffMs / 2 && delay <= DEFAULT_ELECTION_TIMING.maxBackoffMs,
      );
    }
  });
});

describe('election core', () => {
  it('asks the enclave once when it knows no certificate, and waits for the answer', () => {
    const { e } = election();
    const first = e.tick(view);
    assert.deepEqual(
      first.filter((x) => x.type === 'elect').map((x) => x.type),
      ['elect'],
    );
    assert.deepEqual(e.tick(view), [], 'no second request while one is pending');
  });

  it('does not ask before joining', () => {
    const { e } = election();
    assert.deepEqual(e.tick({ ...view, joined: false }), []);
  });

  it('adopts only newer certificates by (epoch, seq) and rejects another cluster', () => {
    const { e } = election();
    assert.equal(e.offer(cert({ epoch: 2 })).result, 'adopted');
    assert.equal(e.offer(cert({ epoch: 1, seq: 9 })).result, 'stale');
    assert.equal(e.offer(cert({ epoch: 2 })).result, 'stale');
    assert.equal(e.offer(cert({ epoch: 2, seq: 1 })).result, 'adopted');
    const foreign = e.offer(cert({ epoch: 9, clusterId: 'other' }));
    assert.equal(foreign.result, 'foreign');
    assert.equal(e.status().certificate?.claims.epoch, 2);
  });

  it('renews its candidacy while following, between 24 and 72 s apart, answered by the live lease', () => {
    const { e, advance } = election();
    const sent: number[] = [];
    let now = 0;
    for (let step = 0; step < 200; step++) {
      // A renewed certificate every second keeps the lease live, as a leader's renewals do.
      e.offer(cert({ seq: step, issuedAt: 10_000 + now, leaseEndsAt: 12_000 + now }));
      const elect = e.tick(view).find((x) => x.type === 'elect');
      if (elect && elect.type === 'elect') {
        assert.equal(elect.waitMs, 0);
        sent.push(now);
        e.succeeded(
          'elect',
          elect.sentAt,
          cert({ seq: step, issuedAt: 10_000 + now, leaseEndsAt: 12_000 + now }),
        );
      }
      advance(1000);
      now += 1000;
    }
    assert.ok(sent.length >= 2, `stood ${sent.length} times in 200 s`);
    const gaps = sent.slice(1).map((t, i) => t - sent[i]!);
    assert.ok(
      gaps.every((g) => g >= 24_000 && g <= 73_000),
      `gaps ${gaps.join(', ')}`,
    );
    assert.ok(sent[0]! <= 73_000);
  });

  it('asks only shortly before a known lease ends, holding the request until then', () => {
    const { e, advance } = election();
    e.offer(cert({ leaseEndsAt: 12_000 }));
    assert.deepEqual(e.tick(view), []);
    advance(1_650); // wall 11_650: 350 ms left, more than askAheadMs
    assert.deepEqual(e.tick(view), []);
    advance(100); // 250 ms left
    const effects = e.tick(view);
    const elect = effects.find((x) => x.type === 'elect');
    assert.ok(elect && elect.type === 'elect');
    assert.equal(elect.knownEpoch, 1);
    assert.equal(elect.waitMs, 300, 'waits out the rest of the lease plus a little');
  });

  it('acts as leader only after its own first renewal, inside sentAt + lease - margin', () => {
    const { e, advance } = election();
    const granted = cert({ leader: 'peer-a', leaseEndsAt: 12_000 });
    e.offer(granted);
    assert.equal(e.status().isLeader, false, 'named by someone else: not yet acting');
    const renew = e.tick(view).find((x) => x.type === 'renew');
    assert.ok(renew && renew.type === 'renew');
    advance(5);
    const renewed = cert({ leader: 'peer-a', seq: 1, issuedAt: 10_003, leaseEndsAt: 12_003 });
    const effects = e.succeeded('renew', renew.sentAt, renewed, granted);
    assert.ok(effects.some((x) => x.type === 'log' && x.event === 'leader.acquired'));
    assert.equal(e.status().isLeader, true);
    assert.equal(e.status().actingUntil, renew.sentAt + 2000 - 200);
    advance(1_794); // 1 ms before the window ends, with no renewal in between
    assert.equal(e.status().isLeader, true);
    e.failed('renew', { code: 'E_TIMEOUT', message: 'timeout' });
    advance(2);
    const released = e.tick(view).find((x) => x.type === 'log' && x.event === 'leader.released');
    assert.ok(released && released.type === 'log');
    assert.equal(released.fields.reason, 'expired');
    assert.equal(e.status().isLeader, false);
  });

  it('ignores a renewal answer that did not move the sequence', () => {
    const { e } = election();
    const granted = cert({ leader: 'peer-a' });
    e.offer(granted);
    const renew = e.tick(view).find((x) => x.type === 'renew');
    assert.ok(renew && renew.type === 'renew');
    e.succeeded('renew', renew.sentAt, granted, granted);
    assert.equal(e.status().isLeader, false);
  });

  it('releases as superseded when a newer epoch names someone else', () => {
    const { e } = leading();
    const { effects } = e.offer(cert({ epoch: 2, leader: 'peer-c' }));
    const released = effects.find((x) => x.type === 'log' && x.event === 'leader.released');
    assert.ok(released && released.type === 'log' && released.fields.reason === 'superseded');
  });

  it('releases as expired when a newer epoch arrives after its window already ended (woken from a pause)', () => {
    const { e, advance } = leading();
    advance(60_000);
    const { effects } = e.offer(cert({ epoch: 2, leader: 'peer-c' }));
    const released = effects.find((x) => x.type === 'log' && x.event === 'leader.released');
    assert.ok(released && released.type === 'log');
    assert.equal(released.fields.reason, 'expired');
  });

  it('resigns: stops acting first, then asks the enclave to hand over without itself', () => {
    const { e } = leading();
    const members = [
      { name: 'peer-a', publicKey: 'ka' },
      { name: 'peer-b', publicKey: 'kb' },
    ];
    const effects = e.resign({ members, joined: true });
    assert.equal(effects[0]?.type, 'log');
    assert.equal(effects[0]?.type === 'log' && effects[0].fields.reason, 'resigned');
    const resign = effects[1];
    assert.ok(resign && resign.type === 'resign');
    assert.deepEqual(
      resign.members.map((m) => m.name),
      ['peer-b'],
    );
    assert.equal(e.status().isLeader, false);
    assert.deepEqual(e.tick({ members, joined: true }), [], 'a resigned peer asks for nothing');
  });
});

describe('election core: how certificates are gossiped', () => {
  const broadcasts = (effects: ElectionEffect[]) =>
    effects.flatMap((x) => (x.type === 'broadcast' ? [x] : []));

  it('gossips a new epoch whole and a renewal as a delta against the certificate gossiped last', () => {
    const { e } = election();
    const first = cert({ epoch: 1 });
    const [whole] = broadcasts(e.offer(first).effects);
    assert.equal(whole?.renewalOf, null);
    const [delta] = broadcasts(e.offer(cert({ epoch: 1, seq: 1 })).effects);
    assert.equal(delta?.renewalOf, first);
    const [next] = broadcasts(e.offer(cert({ epoch: 2 })).effects);
    assert.equal(next?.renewalOf, null, 'a new epoch has no base at the receivers');
  });

  it('re-offers to each returning member directly, and gossips it whole at most once a second', () => {
    const { e, advance } = leading();
    const held = e.status().certificate!;
    const first = e.memberReturned('peer-b');
    assert.deepEqual(
      first.map((x) => x.type),
      ['send', 'broadcast'],
    );
    assert.deepEqual(first[0], { type: 'send', member: 'peer-b', certificate: held });
    assert.equal(broadcasts(first)[0]?.renewalOf, null);
    advance(REOFFER_INTERVAL_MS - 1);
    assert.deepEqual(
      e.memberReturned('peer-c').map((x) => x.type),
      ['send'],
    );
    advance(1);
    assert.deepEqual(
      e.memberReturned('peer-d').map((x) => x.type),
      ['send', 'broadcast'],
    );
  });

  it("has a leader's next probes go to the followers that ask first; a follower's go anywhere", () => {
    const { e } = election();
    const names = ['peer-a', 'peer-b', 'peer-c', 'peer-d', 'peer-e'];
    e.tick({ members: names.map((name) => ({ name, publicKey: `k-${name}` })), joined: true });
    const own = broadcasts(e.offer(cert({ epoch: 4, leader: 'peer-a' })).effects)[0];
    assert.deepEqual(own?.probeFirst, designatedAskers(names, 'peer-a', 4, DEFAULT_ELECTION_TIMING.askers));
    assert.equal(own?.probeFirst.length, DEFAULT_ELECTION_TIMING.askers);
    const other = broadcasts(e.offer(cert({ epoch: 5, leader: 'peer-b' })).effects)[0];
    assert.deepEqual(other?.probeFirst, []);
  });

  it('re-offers nothing unless it acts as leader', () => {
    const { e } = election();
    e.offer(cert({ leader: 'peer-b' }));
    assert.deepEqual(e.memberReturned('peer-c'), []);
  });
});

describe('election simulation (model enclave, fake clock)', () => {
  it('converges on one acting leader from a cold start', () => {
    const sim = new Simulation({ peers: 5, seed: 11 });
    const took = sim.runUntilAgreed(3000);
    assert.ok(took !== null, 'agreed within 3 s');
    assert.equal(sim.enclave.grants.size, 1, 'one epoch for concurrent first requests');
    assert.deepEqual(sim.overlaps(), []);
  });

  it('keeps one leader in steady state with renewals only (no follower requests)', () => {
    const sim = new Simulation({ peers: 5, seed: 12 });
    assert.ok(sim.runUntilAgreed(3000) !== null);
    const before = sim.enclave.requests;
    sim.run(20_000);
    const perSecond = (sim.enclave.requests - before) / 20;
    assert.ok(perSecond <= 2.1, `enclave requests/s in steady state: ${perSecond}`);
    assert.equal(sim.enclave.grants.size, 1);
    assert.ok(sim.agreed());
  });

  it('keeps enclave load independent of N when renewals reach followers late', () => {
    const perSecond = (askers: number) => {
      const sim = new Simulation({ peers: 30, seed: 18, gossipDelayMs: 1000, timing: { askers } });
      assert.ok(sim.runUntilAgreed(5000) !== null);
      const before = sim.enclave.requests;
      sim.run(20_000);
      assert.equal(sim.enclave.grants.size, 1);
      return (sim.enclave.requests - before) / 20;
    };
    const designated = perSecond(DEFAULT_ELECTION_TIMING.askers);
    const everyone = perSecond(1000);
    assert.ok(designated <= 3, `with designated askers: ${designated} requests/s`);
    assert.ok(everyone > designated + 1, `every follower asking: ${everyone} requests/s`);
  });

  it('fails over within lease + 1 s after the leader is killed, to a higher epoch', () => {
    const sim = new Simulation({ peers: 5, seed: 13 });
    sim.runUntilAgreed(3000);
    const old = sim.agreed()!;
    sim.kill(old.leader);
    const took = sim.runUntilAgreed(5000);
    assert.ok(took !== null && took <= 3000, `failover took ${took} ms`);
    const now = sim.agreed()!;
    assert.notEqual(now.leader, old.leader);
    assert.ok(now.epoch > old.epoch);
    assert.deepEqual(sim.overlaps(), []);
  });

  it('hands over in well under a second when the leader resigns', () => {
    const sim = new Simulation({ peers: 5, seed: 14 });
    sim.runUntilAgreed(3000);
    const old = sim.agreed()!;
    sim.resignAndStop(old.leader);
    sim.run(1);
    const took = sim.runUntilAgreed(2000);
    assert.ok(took !== null && took < 1000, `handover took ${took} ms`);
    const released = sim.intervals.find((i) => i.peer === old.leader);
    assert.equal(released?.reason, 'resigned');
    assert.deepEqual(sim.overlaps(), []);
  });

  it('a paused leader woken by the newer certificate logs that it stopped when its window ended', () => {
    const sim = new Simulation({ peers: 5, seed: 19 });
    sim.runUntilAgreed(3000);
    const old = sim.agreed()!;
    sim.pause(old.leader);
    sim.run(6000);
    sim.resume(old.leader, { deliveriesFirst: true });
    sim.run(3000);
    const released = sim.intervals.find((i) => i.peer === old.leader);
    // It stopped because its window ended, whatever it read first on waking.
    assert.equal(released?.reason, 'expired');
    assert.deepEqual(
      sim.overlaps(),
      [],
      'its release is dated at its window end, before the next leader began',
    );
  });

  it('a paused leader releases with reason expired, before the next leader acts', () => {
    const sim = new Simulation({ peers: 5, seed: 15 });
    sim.runUntilAgreed(3000);
    const old = sim.agreed()!;
    sim.pause(old.leader);
    sim.run(6000);
    assert.ok(sim.agreed() && sim.agreed()!.leader !== old.leader, 'the others elected a new leader');
    sim.resume(old.leader);
    sim.run(3000);
    const oldInterval = sim.intervals.find((i) => i.peer === old.leader);
    assert.equal(oldInterval?.reason, 'expired');
    assert.deepEqual(sim.overlaps(), []);
    assert.ok(sim.agreed(), 'the old leader rejoins the new epoch');
  });

  it('elects nobody while the enclave is down, and recovers when it returns', () => {
    const sim = new Simulation({ peers: 3, seed: 16 });
    sim.runUntilAgreed(3000);
    const epoch = sim.enclave.epoch;
    sim.enclave.up = false;
    sim.run(8000);
    assert.equal(sim.enclave.epoch, epoch);
    assert.equal(
      [...sim.peers.values()].filter((p) => p.election.status().isLeader).length,
      0,
      'no one acts as leader without renewals',
    );
    sim.enclave.up = true;
    assert.ok(sim.runUntilAgreed(8000) !== null, 'recovers');
    assert.deepEqual(sim.overlaps(), []);
  });

  it('keeps its leader when renewal replies are lost (fetches the current sequence, renews again)', () => {
    const sim = new Simulation({ peers: 5, seed: 17, replyLoss: 0.1, requestTimeoutMs: 300 });
    assert.ok(sim.runUntilAgreed(5000) !== null);
    sim.run(30_000);
    assert.equal(sim.enclave.grants.size, 1, 'no failover: the leader recovered from every lost reply');
    assert.equal(sim.intervals.length, 1, 'and it never stopped acting: one unbroken leader interval');
    assert.deepEqual(sim.overlaps(), []);
  });

  it('never has overlapping leaders or two leaders per epoch under random faults', () => {
    for (let seed = 100; seed < 130; seed++) {
      const sim = new Simulation({
        peers: 5,
        seed,
        latencyMs: 2 + (seed % 7) * 15,
        gossipDelayMs: 50 + (seed % 5) * 100,
      });
      const random = seededRandom(seed * 31);
      const names = [...sim.peers.keys()];
      sim.run(2000);
      for (let step = 0; step < 40; step++) {
        const victim = names[Math.floor(random.next() * names.length)]!;
        const peer = sim.peers.get(victim)!;
        const roll = random.next();
        if (!peer.alive) {
          sim.addPeer(victim); // restart under the same name
        } else if (peer.paused) {
          sim.resume(victim);
        } else if (roll < 0.3) {
          sim.pause(victim);
        } else if (roll < 0.45) {
          sim.kill(victim);
        } else if (roll < 0.55) {
          sim.enclave.up = !sim.enclave.up;
        }
        sim.run(200 + Math.floor(random.next() * 2500));
      }
      const overlaps = sim.overlaps();
      assert.deepEqual(
        overlaps,
        [],
        `seed ${seed}: overlapping leader intervals ${JSON.stringify(overlaps)}`,
      );
    }
  });
});
