// What keeps a cold start of many peers cheap: one seed at a time, pulls that
// fetch only differences (after joining and periodically), and local health
// that backs off when this peer's own timers run late. Core-level tests drive
// Membership directly with chosen times; the cluster test counts datagrams.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { membershipConfig, PEER_DEFAULTS } from '../../../src/peer/config.ts';
import { nameHash } from '../../../src/peer/membership/entry-hash.ts';
import { Membership } from '../../../src/peer/membership/membership.ts';
import { pullIntervalMs } from '../../../src/peer/membership/timing.ts';
import type { MembershipEffect } from '../../../src/peer/membership/types.ts';
import { decodeDatagram, encodeDatagram } from '../../../src/protocol/gossip-codec.ts';
import type { GossipMessage, PushPullMessage } from '../../../src/protocol/gossip-messages.ts';
import { seededRandom } from '../../../src/random/seeded-random.ts';
import { publicKey, SimulatedCluster, simulationSeed } from '../support/simulated-cluster.ts';

const config = membershipConfig(PEER_DEFAULTS);

function core(i: number, seed = simulationSeed(401)): Membership {
  return new Membership({
    self: { name: `p${i}`, incarnation: 1, address: `10.0.0.${i + 1}:7946`, publicKey: publicKey(i) },
    config,
    random: seededRandom(seed + i),
    now: 0,
    datagramOverhead: 4,
  });
}

/** The datagrams among `effects`, decoded, with their destination. */
function sent(effects: MembershipEffect[]): { to: string; messages: GossipMessage[] }[] {
  return effects.flatMap((e) => {
    if (e.type !== 'send') return [];
    const d = decodeDatagram(encodeDatagram(e.messages));
    assert.ok(d.ok);
    return [{ to: e.to, messages: d.messages }];
  });
}

const pushPulls = (datagrams: { to: string; messages: GossipMessage[] }[]) =>
  datagrams.flatMap(({ to, messages }) =>
    messages.filter((m): m is PushPullMessage => m.type === 'push-pull').map((m) => ({ to, m })),
  );

describe('joining at scale', () => {
  it('asks one seed, and the next only when no answer came within a second', () => {
    const joiner = core(9);
    const seeds = ['10.0.0.1:7946', '10.0.0.2:7946', '10.0.0.3:7946'];
    const first = pushPulls(sent(joiner.join(seeds, 0)));
    assert.equal(first.length, 1, 'one request');
    assert.ok(seeds.includes(first[0]!.to) && first[0]!.m.join);
    assert.equal(pushPulls(sent(joiner.tick(999))).length, 0, 'still waiting');
    const second = pushPulls(sent(joiner.tick(1000)));
    assert.equal(second.length, 1, 'the next seed after 1 s');
    assert.notEqual(second[0]!.to, first[0]!.to);

    // The second seed answers: joined, no third request.
    const seed = core(Number(second[0]!.to.split('.')[3]!.split(':')[0]) - 1);
    const answer = sent(seed.receive(joiner.self.address, [second[0]!.m], 1001));
    joiner.receive(second[0]!.to, answer[0]!.messages, 1002);
    assert.equal(joiner.joined, true);
    const later = pushPulls(sent(joiner.tick(2500))).filter(({ m }) => m.join && m.entries.length > 1);
    assert.equal(later.length, 0, 'no further join requests once joined');
  });

  it("takes every part of a seed's answer, though a 1,000-member table is dozens of parts arriving at once", () => {
    const seed = core(0);
    for (let i = 1; i < 1000; i++) {
      const member = {
        name: `m${i}`,
        incarnation: 1,
        address: `10.1.${i >> 8}.${i & 255}:7946`,
        publicKey: publicKey(i),
      };
      seed.receive(member.address, [{ type: 'alive', member }], 1);
    }
    const joiner = core(1);
    const [request] = pushPulls(sent(joiner.join([seed.self.address], 2)));
    const answer = pushPulls(sent(seed.receive(joiner.self.address, [request!.m], 3)));
    assert.ok(answer.length > 16, `${answer.length} parts: more than a source's pulls per second`);
    // All in the same millisecond, as they come off the wire.
    for (const { m } of answer) joiner.receive(seed.self.address, [m], 4);
    assert.equal(joiner.members().filter((m) => m.state === 'alive').length, 1001, 'the whole table');
    assert.equal(joiner.joined, true);
  });

  it('draws at most 4 full tables per source per second, however the requests split them', () => {
    const seed = core(0);
    // Each single-bucket pull asks for the whole table.
    const whole = Array.from({ length: 40 }, (_, i) => ({
      type: 'pull' as const,
      syncId: i,
      bucket: 0,
      buckets: 1,
      hashes: [],
    })).filter((pull) => sent(seed.receive('10.0.9.9:7946', [pull], 5)).length > 0);
    assert.equal(whole.length, 4);
    // Eighths of it: 32 of them make 4 tables; the rest are ignored, counted.
    const ignored = (effects: MembershipEffect[]) =>
      effects.filter((e) => e.type === 'event' && e.event.event === 'message.ignored').length;
    let refused = 0;
    for (let i = 0; i < 40; i++) {
      refused += ignored(
        seed.receive(
          '10.0.9.8:7946',
          [{ type: 'pull', syncId: i, bucket: i % 8, buckets: 8, hashes: [] }],
          5,
        ),
      );
    }
    assert.equal(refused, 8);
  });

  it('answers every bucket of one pull, though a large table bound splits it into more than 16', () => {
    // A peer whose bound is 3,016 members (the simulation of 3,000) pulls a full table in
    // 22-25 buckets, all sent at once; 16 requests per source per second left a quarter of
    // them unanswered, and the members in them unlisted until a pull 8-16 s later.
    const seed = core(0);
    const ignoredSync = (effects: MembershipEffect[]) =>
      effects.filter(
        (e) => e.type === 'event' && e.event.event === 'message.ignored' && e.event.reason === 'sync-limit',
      ).length;
    let ignored = 0;
    for (let bucket = 0; bucket < 24; bucket++) {
      ignored += ignoredSync(
        seed.receive('10.0.9.9:7946', [{ type: 'pull', syncId: 7, bucket, buckets: 24, hashes: [] }], 5),
      );
    }
    assert.equal(ignored, 0);
  });

  /** b joins a; both then hold the same two entries. */
  function pair() {
    const a = core(0);
    const b = core(1);
    const [request] = pushPulls(sent(b.join([a.self.address], 0)));
    const answer = pushPulls(sent(a.receive(b.self.address, [request!.m], 1)));
    assert.equal(answer[0]!.m.entries.length, 2, 'a full answer to a join');
    // Once, not twice (a leftover line once answered every push with the table twice),
    // and what the seed holds of the joiner first.
    assert.equal(answer.length, 1, 'the table goes back once');
    assert.equal(answer[0]!.m.entries[0]!.name, b.self.name);
    for (const { m } of answer) b.receive(a.self.address, [m], 2);
    assert.equal(b.joined, true);
    return { a, b };
  }

  /** Tick `c` from..to, acking its probes as if `peer` answered; what it sent. */
  function runAcked(c: Membership, peer: Membership, from: number, to: number) {
    const out: { to: string; messages: GossipMessage[] }[] = [];
    for (let now = from; now < to; now += 10) {
      for (const d of sent(c.tick(now))) {
        out.push(d);
        for (const m of d.messages) {
          if (m.type === 'ping') c.receive(peer.self.address, [{ type: 'ack', seq: m.seq }], now);
        }
      }
    }
    return out;
  }

  it('answers a pull with only the entries the puller lacks, and with nothing when it lacks nothing', () => {
    const { a, b } = pair();
    const c = { name: 'p2', incarnation: 3, address: '10.0.0.3:7946', publicKey: publicKey(2) };
    a.receive(c.address, [{ type: 'alive', member: c }], 5);

    const firstPull = runAcked(b, a, 10, 2100).flatMap((d) => d.messages.filter((m) => m.type === 'pull'));
    assert.ok(firstPull.length >= 1, 'the first pull comes 1-2 s after joining');
    const answer = pushPulls(sent(a.receive(b.self.address, firstPull, 2100)));
    assert.deepEqual(
      answer.flatMap(({ m }) => m.entries.map((e) => e.name)),
      ['p2'],
      'only the member b lacks',
    );
    for (const { m } of answer) b.receive(a.self.address, [m], 2101);
    assert.equal(b.member('p2')?.state, 'alive');

    const secondPull = runAcked(b, a, 2110, 6000).flatMap((d) => d.messages.filter((m) => m.type === 'pull'));
    assert.ok(secondPull.length >= 1, 'a second pull about 2 s later');
    assert.equal(
      sent(a.receive(b.self.address, secondPull, 6000)).length,
      0,
      'same tables: no answer at all',
    );
  });

  it('answers each bucket of a pull with that bucket only, as the table stands when the bucket arrives', () => {
    const a = core(0);
    const member = (i: number) => ({
      name: `p${i}`,
      incarnation: 1,
      address: `10.0.2.${i}:7946`,
      publicKey: publicKey(i),
    });
    for (let i = 1; i <= 40; i++) a.receive(member(i).address, [{ type: 'alive', member: member(i) }], 1);
    /** Names in a's answer to bucket `bucket` of `buckets`, from a puller that holds nothing. */
    const answer = (bucket: number, buckets: number, now: number) =>
      pushPulls(
        sent(a.receive('10.0.9.9:7946', [{ type: 'pull', syncId: 1, bucket, buckets, hashes: [] }], now)),
      )
        .flatMap(({ m }) => m.entries.map((e) => e.name))
        .sort();
    const inBucket = (bucket: number, buckets: number) =>
      a
        .members()
        .map((m) => m.name)
        .filter((name) => nameHash(name) % buckets === bucket)
        .sort();

    // Pullers with tables of different sizes split into different bucket counts, interleaved.
    const seen: string[] = [];
    for (let bucket = 0; bucket < 4; bucket++) {
      assert.deepEqual(answer(bucket, 4, 2), inBucket(bucket, 4));
      assert.deepEqual(answer(bucket % 3, 3, 2), inBucket(bucket % 3, 3));
      seen.push(...answer(bucket, 4, 2));
    }
    assert.deepEqual(
      seen.sort(),
      a
        .members()
        .map((m) => m.name)
        .sort(),
      'the buckets cover the table once',
    );

    // A member learned between two buckets of one pull is in its bucket's answer.
    const late = member(41);
    a.receive(late.address, [{ type: 'alive', member: late }], 3);
    const lateBucket = nameHash(late.name) % 4;
    assert.ok(answer(lateBucket, 4, 3).includes(late.name));
    assert.deepEqual(answer(lateBucket, 4, 3), inBucket(lateBucket, 4));

    // Several more, then every bucket of both splits kept: each added member once, in its bucket.
    for (let i = 42; i <= 60; i++) a.receive(member(i).address, [{ type: 'alive', member: member(i) }], 4);
    // (A second apart: a source draws at most 4 tables a second.)
    let now = 1000;
    for (const buckets of [4, 3]) {
      const all: string[] = [];
      for (let bucket = 0; bucket < buckets; bucket++) {
        now += 1000;
        const names = answer(bucket, buckets, now);
        assert.deepEqual(names, inBucket(bucket, buckets));
        all.push(...names);
      }
      assert.equal(all.length, 61, `${buckets} buckets cover the 61 entries (self too) once`);
    }
  });

  it('keeps anti-entropy cheap: a pull every interval, no table pushed while nobody is dead', () => {
    const { a, b } = pair();
    const later = runAcked(b, a, 10, 60_000);
    const pulls = later.filter((d) => d.messages.some((m) => m.type === 'pull')).length;
    assert.ok(pulls >= 5 + 4, `five pulls after joining, then one about every 10 s (${pulls})`);
    const pushes = pushPulls(later).filter(({ m }) => !m.response);
    assert.equal(pushes.length, 0, 'no full table pushed');
  });

  it('pulls five times one unit apart after joining, one unit apart while its table still changes (at most 8 more), then 2, 4, 8 units apart up to the regular interval', () => {
    const unit = config.pushPullAfterJoinMs;
    /** Times of b's pulls over 60 s; `newcomers`: news reaches b every 0.25 s. */
    function pullTimes(newcomers: boolean): number[] {
      const { a, b } = pair();
      const times: number[] = [];
      let next = 0;
      for (let now = 10; now < 60_000; now += 10) {
        if (newcomers && now % 250 === 0) {
          const i = 10 + next++;
          const member = {
            name: `p${i}`,
            incarnation: 1,
            address: `10.0.${1 + (i >> 8)}.${i & 255}:7946`,
            publicKey: publicKey(i),
          };
          b.receive(a.self.address, [{ type: 'alive', member }], now);
        }
        for (const d of sent(b.tick(now))) {
          if (d.messages.some((m) => m.type === 'pull')) times.push(now);
          for (const m of d.messages) {
            if (m.type === 'ping') b.receive(d.to, [{ type: 'ack', seq: m.seq }], now);
          }
        }
      }
      return times;
    }
    const gaps = (times: number[]) => times.slice(1).map((t, i) => t - times[i]!);
    const units = (gap: number) => Math.round(gap / unit);
    const quiet = pullTimes(false);
    const filling = pullTimes(true);
    assert.ok(quiet[0]! >= unit && quiet[0]! <= 2 * unit + 10, `the first 1-2 units after joining: ${quiet}`);
    // A cold start of 1,000 left most members a few records short between pulls further apart.
    assert.deepEqual(
      gaps(quiet.slice(0, 5)).map(units),
      [1, 1, 1, 1],
      `five quick pulls one unit apart: ${quiet}`,
    );
    // A member that joined late reaches a settled peer by the tail, not the regular pull.
    const regular = pullIntervalMs(config.pushPullIntervalMs, 2);
    const tail = gaps(quiet.slice(4)).filter((gap) => gap < regular - unit);
    assert.deepEqual(
      tail.map(units),
      [2, 4, 8, 16].filter((n) => n * unit < regular),
      `then doubling: ${quiet}`,
    );
    const afterTail = quiet[4 + tail.length + 1];
    assert.ok(
      afterTail !== undefined && afterTail - quiet[4 + tail.length]! >= regular,
      `then regular: ${quiet}`,
    );
    assert.deepEqual(filling.slice(0, 5), quiet.slice(0, 5), `the same five first: ${filling}`);
    const extra = filling.slice(4, 13);
    assert.deepEqual(
      gaps(extra).map(units),
      [1, 1, 1, 1, 1, 1, 1, 1],
      `eight more while the table changes: ${filling}`,
    );
    assert.equal(units(filling[13]! - filling[12]!), 2, `then the doubling tail: ${filling}`);
  });

  it('answers an accusation by sending its refutation straight back to the accuser', () => {
    const { a, b } = pair();
    const before = b.self.incarnation;
    const reply = sent(
      b.receive(a.self.address, [{ type: 'dead', name: 'p1', incarnation: before, from: 'p0' }], 100),
    );
    const direct = reply.find((d) => d.to === a.self.address && d.messages.some((m) => m.type === 'alive'));
    assert.ok(direct, 'the accuser hears the refutation first-hand');
    const alive = direct.messages.find((m) => m.type === 'alive');
    assert.ok(alive?.type === 'alive' && alive.member.incarnation > before);
  });

  it('sends a payload straight to a live member, and nowhere for an unknown one', () => {
    const { a, b } = pair();
    const direct = sent(a.sendTo('p1', 'leader', 'epoch', new Uint8Array([7, 7])));
    assert.equal(direct.length, 1);
    assert.equal(direct[0]!.to, b.self.address);
    assert.ok(direct[0]!.messages.some((m) => m.type === 'broadcast' && m.key === 'epoch'));
    assert.equal(sent(a.sendTo('nobody', 'leader', 'epoch', new Uint8Array([7]))).length, 0);
  });

  it('starts 100 peers at once through 3 seeds with about one full table per peer', () => {
    const c = new SimulatedCluster(simulationSeed(402));
    const n = 100;
    const seeds = [0, 1, 2].map(SimulatedCluster.addressOf);
    let syncDatagrams = 0;
    const attach = c.network.attach.bind(c.network);
    c.network.attach = (address: string) => {
      const transport = attach(address);
      const send = transport.send.bind(transport);
      transport.send = (bytes: Uint8Array, to: string) => {
        // The first message's type code follows the 4-byte envelope header
        // (plaintext): 9 push-pull, 11 pull, 12 admission, 13 admission request.
        if (bytes[4]! >= 9 && bytes[4]! <= 13 && bytes[4] !== 10) syncDatagrams++;
        send(bytes, to);
      };
      return transport;
    };
    for (let i = 0; i < n; i++)
      c.start(
        i,
        seeds.filter((s) => s !== SimulatedCluster.addressOf(i)),
      );
    c.runUntil(() => c.converged(), 15_000, 'convergence');
    c.run(5000);
    if (process.env.SCALE_TEST_PRINT) console.log(`state-exchange and admission datagrams: ${syncDatagrams}`);
    // A full table of 100 members is 20 datagrams (entries carry a 64-byte record
    // signature and the member's admission, about 270 bytes each); each peer also
    // sends 3 small requests (join, two pulls) and gets an empty answer or two.
    // Joining all three seeds and two full pulls (the old way) cost about 5 small
    // + 3.5 tables per peer. Counted with the admissions a peer had to ask for:
    // 3,600 datagrams (788 of state exchange, 2,812 of admissions and requests)
    // when admissions did not ride with records, 1,911 since.
    const fullTable = 20;
    assert.ok(
      syncDatagrams <= n * (4 + fullTable),
      `${syncDatagrams} state-exchange and admission datagrams for ${n} peers (seed ${c.seed})`,
    );
    assert.equal(c.falseDeaths(), 0);
  });
});

describe('local health from late timers', () => {
  it('raises awareness when a probe starts late, which stretches the probe interval', () => {
    const c = core(0);
    const member = { name: 'p1', incarnation: 1, address: '10.0.0.2:7946', publicKey: publicKey(1) };
    c.receive(member.address, [{ type: 'alive', member }], 0);
    const pingTimes: number[] = [];
    const step = (now: number) => {
      for (const d of sent(c.tick(now))) {
        for (const m of d.messages) {
          if (m.type !== 'ping') continue;
          pingTimes.push(now);
          c.receive(member.address, [{ type: 'ack', seq: m.seq }], now);
        }
      }
    };
    for (let now = 0; now <= 2000; now += 10) step(now);
    assert.equal(c.awarenessScore, 0, 'on time: healthy');
    // The next probe is due one interval after the last; the wake comes 400 ms late.
    const due = pingTimes.at(-1)! + config.probeIntervalMs;
    step(due + 400);
    assert.equal(c.awarenessScore, 1);
    const lateProbe = pingTimes.at(-1)!;
    for (let now = due + 410; now <= due + 3000; now += 10) step(now);
    const next = pingTimes.find((t) => t > lateProbe)!;
    assert.ok(
      next - lateProbe >= 2 * config.probeIntervalMs,
      `next probe ${next - lateProbe} ms later (interval x (score + 1))`,
    );
  });
});
