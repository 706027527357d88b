// A record that waits for its member's admission asks for it again while it
// waits: one lost request or answer must not leave the member unlisted until
// a later pull happens to bring its record again (found by the simulation
// bench: at N = 200 with 1% loss a few members stayed unlisted for 10 s). And
// a peer hands its own admission to whoever asks, within the amplification
// limit: a joiner whose introduction was lost and its seed each lacked the
// other's admission and each waited for the other to be listed first (at
// N = 400 with 1% loss, one joiner stayed alone for good).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { signRecord } from '../../../src/crypto/member-record-signature.ts';
import {
  ADMISSION_WINDOW,
  ASK_BATCH_MS,
  askAgainAfterMs,
} from '../../../src/peer/membership/admission-exchange.ts';
import type { MembershipConfig } from '../../../src/peer/membership/types.ts';
import { decodeDatagram, encodeDatagram, encodeMessage } from '../../../src/protocol/gossip-codec.ts';
import { type GossipMessage, WIRE_LIMITS } from '../../../src/protocol/gossip-messages.ts';
import {
  privateKey,
  publicKey,
  SimulatedCluster,
  simulatedEnclaves,
  simulationSeed,
} from '../support/simulated-cluster.ts';
import { pullAnswer } from '../support/sync-messages.ts';

/** Lifeguard awareness held at 0, for the exact retry schedule of an untroubled peer. */
const CALM: Partial<MembershipConfig> = { awarenessMax: 1 };

/** Member i's signed alive record at its usual address. */
function alive(i: number): GossipMessage {
  const fields = {
    name: `peer-${i}`,
    incarnation: 1,
    address: SimulatedCluster.addressOf(i),
    publicKey: publicKey(i),
  };
  return { type: 'alive', member: { ...fields, signature: signRecord(fields, privateKey(i)) } };
}

/**
 * A peer (the victim) and the address of peer-1 (the relay) that sends it
 * datagrams: what the victim sends the relay is recorded (its admission
 * requests, with when) and reaches no one.
 */
function victimOfRelay(seed: number, settleMs: number, overrides: Partial<MembershipConfig> = {}) {
  const cluster = new SimulatedCluster(simulationSeed(seed), overrides);
  const victim = cluster.start(0, []).node;
  const relay = SimulatedCluster.addressOf(1);
  const { cluster: enclave } = simulatedEnclaves();
  const deliver = (messages: GossipMessage[]) => {
    cluster.network.send(relay, victim.address, encodeDatagram(messages.map(encodeMessage)));
    cluster.run(settleMs);
  };
  const asked: { at: number; names: string[] }[] = [];
  const send = cluster.network.send.bind(cluster.network);
  cluster.network.send = (from, to, bytes) => {
    const decoded = from === victim.address && to === relay ? decodeDatagram(bytes) : undefined;
    if (decoded?.ok)
      for (const m of decoded.messages)
        if (m.type === 'admission-request') asked.push({ at: cluster.clock.now(), names: m.names });
    send(from, to, bytes);
  };
  return { cluster, victim, enclave, deliver, asked };
}

/**
 * Admissions ride with records (push-pull entries, alive messages); these
 * tests are about the peers that must ask for them anyway (a record relayed
 * by a peer whose copy of the admission lapsed or was evicted): strip every
 * riding admission from the cluster's datagrams.
 */
function withoutRidingAdmissions(cluster: SimulatedCluster): void {
  const send = cluster.network.send.bind(cluster.network);
  cluster.network.send = (from, to, bytes) => {
    const decoded = decodeDatagram(bytes);
    if (!decoded.ok) return send(from, to, bytes);
    const messages = decoded.messages.map((m): GossipMessage => {
      if (m.type === 'alive') return { type: 'alive', member: m.member };
      if (m.type === 'push-pull')
        return { ...m, entries: m.entries.map(({ admission: _riding, ...entry }) => entry) };
      return m;
    });
    // A padded join keeps its size: it pays for the answer (amplification limit).
    const shortBy = bytes.length - encodeDatagram(messages.map(encodeMessage)).length;
    const padding = messages.find((m) => m.type === 'padding');
    if (padding) padding.bytes += shortBy;
    send(from, to, encodeDatagram(messages.map(encodeMessage)));
  };
}

/** A converged cluster of 10, with the admission datagrams peer-0 sends to peer-1 collected. */
function tappedAdmissionAnswers() {
  const cluster = new SimulatedCluster(simulationSeed(229));
  cluster.startMany(10);
  cluster.runUntil(() => cluster.converged(), 20_000, 'convergence');
  const [answerer, asker] = [cluster.peer('peer-0').node, cluster.peer('peer-1').node];
  const answers: GossipMessage[][] = [];
  const send = cluster.network.send.bind(cluster.network);
  cluster.network.send = (from, to, bytes) => {
    const decoded = from === answerer.address && to === asker.address ? decodeDatagram(bytes) : undefined;
    if (decoded?.ok && decoded.messages.some((m) => m.type === 'admission')) answers.push(decoded.messages);
    send(from, to, bytes);
  };
  return { cluster, answerer, asker, answers };
}

describe('admission exchange', () => {
  it('lists a member whose admission rides with its record without asking for it; a riding admission vouches for no other record', () => {
    const { cluster, victim, enclave, deliver, asked } = victimOfRelay(233, 1);
    const riding = (i: number, member = alive(i)): GossipMessage => ({
      ...(member as GossipMessage & { type: 'alive' }),
      admission: enclave.issue(`peer-${i}`, publicKey(i), { now: 0 }),
    });
    deliver([riding(2)]);
    assert.equal(victim.member('peer-2')?.state, 'alive', 'listed at once');
    // In a state exchange as well.
    const { member } = alive(3) as GossipMessage & { type: 'alive' };
    const admission = enclave.issue('peer-3', publicKey(3), { now: 0 });
    deliver([pullAnswer([{ state: 'alive', ...member, admission }])]);
    assert.equal(victim.member('peer-3')?.state, 'alive', 'listed from a push-pull entry');
    assert.equal(asked.length, 0, 'nothing asked');
    // A forged record (another key's signature) with the genuine admission: refused.
    const forgedFields = {
      name: 'peer-4',
      incarnation: 1,
      address: '10.6.6.6:7946',
      publicKey: publicKey(4),
    };
    const forged: GossipMessage = {
      type: 'alive',
      member: { ...forgedFields, signature: signRecord(forgedFields, privateKey(5)) },
    };
    deliver([riding(4, forged)]);
    assert.equal(victim.member('peer-4'), undefined, 'a forged record is not listed');
    // Peer-6's record with peer-7's admission: peer-6 waits for its own (asked for).
    deliver([
      {
        ...(alive(6) as GossipMessage & { type: 'alive' }),
        admission: enclave.issue('peer-7', publicKey(7), { now: 0 }),
      },
    ]);
    assert.equal(victim.member('peer-6'), undefined, "another member's admission does not list it");
    cluster.run(ASK_BATCH_MS);
    assert.ok(
      asked.some((request) => request.names.includes('peer-6')),
      'its own admission is asked for',
    );
  });

  it('waits 0.5 s before asking for a name again, doubling up to 2 s', () => {
    assert.deepEqual([1, 2, 3, 4, 9].map(askAgainAfterMs), [500, 1_000, 2_000, 2_000, 2_000]);
  });

  it('asks for at most a window of admissions at once, and for more as answers arrive', () => {
    const { cluster, victim, enclave, deliver, asked } = victimOfRelay(227, 1);
    const names = () => asked.flatMap((request) => request.names);
    deliver([{ type: 'admission', token: enclave.issue('peer-1', publicKey(1), { now: 0 }) }, alive(1)]);
    // More members' records than the window, whose admissions the victim lacks, in datagrams of 8.
    const members = 2 * ADMISSION_WINDOW;
    for (let i = 2; i < members + 2; i += 8) deliver(Array.from({ length: 8 }, (_, k) => alive(i + k)));
    // (Names are asked for ASK_BATCH_MS after the input that brought them.)
    cluster.run(ASK_BATCH_MS);
    assert.equal(names().length, ADMISSION_WINDOW, `a window of names, not all ${members}`);
    // A request's worth of answers (8) makes room for as many more names; the members answered are listed.
    const perRequest = WIRE_LIMITS.admissionNamesMax;
    for (const name of names().slice(0, perRequest)) {
      const i = Number(name.slice('peer-'.length));
      deliver([{ type: 'admission', token: enclave.issue(name, publicKey(i), { now: 0 }) }]);
      assert.equal(victim.member(name)?.state, 'alive');
    }
    cluster.run(ASK_BATCH_MS);
    assert.equal(names().length, ADMISSION_WINDOW + perRequest);
    assert.equal(new Set(names()).size, names().length, 'no name asked twice yet');
    // Unanswered names stop holding the window after 0.5 s: the queue moves on, and
    // the first names are asked again (their retries).
    cluster.run(1_000);
    assert.ok(names().length >= 2 * ADMISSION_WINDOW, `${names().length} names asked after 1 s`);
    assert.ok(new Set(names()).size > ADMISSION_WINDOW + perRequest, 'names beyond the first window asked');
  });

  it('stops asking once the records that wanted the admissions are dropped, queued names included', () => {
    const { cluster, deliver, asked } = victimOfRelay(231, 1, CALM);
    const members = 2 * ADMISSION_WINDOW;
    for (let i = 2; i < members + 2; i += 8) deliver(Array.from({ length: 8 }, (_, k) => alive(i + k)));
    const started = cluster.clock.now();
    // Nobody answers: the waiting records are kept 10 s and then dropped; nothing asks after that.
    cluster.run(30_000);
    const late = asked.filter((request) => request.at - started > 16_000).flatMap((r) => r.names);
    assert.deepEqual(late.slice(0, 8), [], `${late.length} names asked for records dropped long before`);
  });

  it("answers a listed member's request for 8 admissions with one datagram holding all 8", () => {
    const { cluster, answerer, asker, answers } = tappedAdmissionAnswers();
    const names = Array.from({ length: 8 }, (_, i) => `peer-${i + 2}`);
    const request = encodeMessage({ type: 'admission-request', source: 'peer-1', names });
    cluster.network.send(asker.address, answerer.address, encodeDatagram([request]));
    cluster.run(50);
    assert.equal(answers.length, 1, 'one datagram');
    assert.deepEqual(
      answers[0]!.map((m) => m.type),
      names.map(() => 'admission'),
    );
  });

  it('answers two requests in one datagram with one packed datagram, each admission once', () => {
    const { cluster, answerer, asker, answers } = tappedAdmissionAnswers();
    const first = ['peer-2', 'peer-3', 'peer-4', 'peer-5'];
    const second = ['peer-5', 'peer-6', 'peer-7'];
    const requests = [first, second].map((names) =>
      encodeMessage({ type: 'admission-request', source: 'peer-1', names }),
    );
    cluster.network.send(asker.address, answerer.address, encodeDatagram(requests));
    cluster.run(50);
    assert.equal(answers.length, 1, 'one datagram');
    assert.equal(answers[0]!.length, 6, 'peer-2 to peer-7, peer-5 once');
  });

  it('asks for the names a burst of datagrams from one member brought in one datagram', () => {
    const { cluster, enclave, deliver, victim } = victimOfRelay(233, 1, CALM);
    deliver([{ type: 'admission', token: enclave.issue('peer-1', publicKey(1), { now: 0 }) }, alive(1)]);
    cluster.run(ASK_BATCH_MS);
    const requests: GossipMessage[][] = [];
    const send = cluster.network.send.bind(cluster.network);
    cluster.network.send = (from, to, bytes) => {
      const decoded = from === victim.address ? decodeDatagram(bytes) : undefined;
      if (decoded?.ok && decoded.messages.some((m) => m.type === 'admission-request'))
        requests.push(decoded.messages);
      send(from, to, bytes);
    };
    // Three datagrams of 8 records each, 1 ms apart, as a pull answer's parts come.
    for (let i = 2; i < 26; i += 8) deliver(Array.from({ length: 8 }, (_, k) => alive(i + k)));
    cluster.run(ASK_BATCH_MS);
    assert.equal(requests.length, 1, `${requests.length} request datagrams`);
    const names = requests[0]!.flatMap((m) => (m.type === 'admission-request' ? m.names : []));
    assert.equal(new Set(names).size, 24, 'all 24 names, in requests of at most 8');
  });

  it('asks again for an admission whose answer never came, and lists the member once it does', () => {
    // Names the victim asked the relay for, with when; nothing the victim sends reaches anyone.
    // Awareness held at 0: the relay never acks the victim's probes, which would
    // raise it and stretch these waits (the next test).
    const { cluster, victim, enclave, deliver, asked } = victimOfRelay(211, 10, CALM);

    // peer-1 is admitted and listed; then it passes on peer-2's record, whose admission the victim lacks.
    deliver([{ type: 'admission', token: enclave.issue('peer-1', publicKey(1), { now: 0 }) }, alive(1)]);
    deliver([alive(2)]);
    assert.equal(victim.member('peer-2'), undefined, 'not listed without its admission');
    assert.deepEqual(
      asked.map((a) => a.names),
      [['peer-2']],
      'asked the member that passed the record on',
    );

    // The answers are lost. With no new copy of the record, the victim asks again after
    // 0.5 s, then 1 s later (within a 250 ms sweep of each).
    cluster.run(1_900);
    assert.deepEqual(
      asked.map((a) => a.names),
      [['peer-2'], ['peer-2'], ['peer-2']],
    );
    const gaps = [asked[1]!.at - asked[0]!.at, asked[2]!.at - asked[1]!.at];
    assert.ok(gaps[0]! >= 500 && gaps[0]! <= 750, `first retry after 0.5 s (${gaps[0]} ms)`);
    assert.ok(gaps[1]! >= 1_000 && gaps[1]! <= 1_250, `then after 1 s (${gaps[1]} ms)`);

    // The second answer arrives: the waiting record is applied.
    deliver([{ type: 'admission', token: enclave.issue('peer-2', publicKey(2), { now: 0 }) }]);
    assert.equal(victim.member('peer-2')?.state, 'alive');
  });

  it('stretches its waits by its Lifeguard awareness: a starved peer asks less often', () => {
    const asks = (overrides: Partial<MembershipConfig>) => {
      const { cluster, victim, enclave, deliver, asked } = victimOfRelay(211, 10, overrides);
      deliver([{ type: 'admission', token: enclave.issue('peer-1', publicKey(1), { now: 0 }) }, alive(1)]);
      deliver([alive(2)]);
      cluster.run(8_000);
      return { asks: asked.length, awareness: victim.awarenessScore };
    };
    const calm = asks(CALM);
    const troubled = asks({});
    assert.equal(calm.awareness, 0);
    assert.ok(troubled.awareness >= 2, `awareness ${troubled.awareness} (its probes of the relay fail)`);
    assert.ok(troubled.asks < calm.asks, `${troubled.asks} asks against ${calm.asks} at awareness 0`);
  });

  it('stops asking once the waiting record is stale (10 s without a new copy)', () => {
    const cluster = new SimulatedCluster(simulationSeed(223), CALM);
    const victim = cluster.start(0, []).node;
    const relay = SimulatedCluster.addressOf(1);
    const { cluster: enclave } = simulatedEnclaves();
    let requests = 0;
    const send = cluster.network.send.bind(cluster.network);
    cluster.network.send = (from, to, bytes) => {
      const decoded = from === victim.address && to === relay ? decodeDatagram(bytes) : undefined;
      if (decoded?.ok) requests += decoded.messages.filter((m) => m.type === 'admission-request').length;
      send(from, to, bytes);
    };
    const deliver = (messages: GossipMessage[]) =>
      cluster.network.send(relay, victim.address, encodeDatagram(messages.map(encodeMessage)));
    deliver([{ type: 'admission', token: enclave.issue('peer-1', publicKey(1), { now: 0 }) }, alive(1)]);
    deliver([alive(2)]);
    cluster.run(12_000);
    const after = requests;
    // At 0, 0.5, 1.5, 3.5, 5.5, 7.5 and 9.5 s: the waits double to 2 s; the record is kept 10 s.
    assert.ok(after >= 6 && after <= 7, `asked ${after} times in 12 s`);
    cluster.run(20_000);
    assert.equal(requests, after, 'no more asks for a record that went stale');
  });

  it('keeps a waiting record 10 s from its latest copy, and never mistakes a forged copy for it', () => {
    const genuine = alive(2);
    // The genuine signature on another address.
    const forged = structuredClone(genuine) as { type: 'alive'; member: { address: string } };
    forged.member.address = '10.66.0.9:7946';
    const admitted = (copies: GossipMessage[][], gapMs: number) => {
      const { cluster, victim, enclave, deliver } = victimOfRelay(227, 10, CALM);
      deliver([{ type: 'admission', token: enclave.issue('peer-1', publicKey(1), { now: 0 }) }, alive(1)]);
      for (const copy of copies) {
        deliver(copy);
        cluster.run(gapMs);
      }
      deliver([{ type: 'admission', token: enclave.issue('peer-2', publicKey(2), { now: 0 }) }]);
      return victim.member('peer-2');
    };
    // The same record twice, 8 s apart, and its admission 8 s after the second (16 s after the first).
    assert.equal(
      admitted([[genuine], [genuine]], 8_000)?.state,
      'alive',
      'the second copy restarted its 10 s',
    );
    assert.equal(admitted([[genuine]], 15_000), undefined, 'one copy, 15 s old, is dropped');
    // A forged copy first, then the genuine one: the genuine one waits, and is listed.
    const listed = admitted([[forged as GossipMessage], [genuine]], 100);
    assert.equal(listed?.address, SimulatedCluster.addressOf(2));
  });

  it("lists a joiner whose introduction to its seed was lost: each hands its own admission to the other's request", () => {
    const cluster = new SimulatedCluster(simulationSeed(227));
    withoutRidingAdmissions(cluster);
    const seed = cluster.start(0, []).node;
    const joinerAddress = SimulatedCluster.addressOf(1);
    let introductionsLost = 0;
    const send = cluster.network.send.bind(cluster.network);
    cluster.network.send = (from, to, bytes) => {
      const decoded = from === joinerAddress && introductionsLost === 0 ? decodeDatagram(bytes) : undefined;
      if (decoded?.ok && decoded.messages.some((m) => m.type === 'admission')) {
        introductionsLost++;
        return;
      }
      send(from, to, bytes);
    };
    const joiner = cluster.start(1, [seed.address]).node;
    cluster.run(5_000);
    assert.equal(introductionsLost, 1, 'the introduction was lost');
    assert.equal(seed.member('peer-1')?.state, 'alive', 'the seed lists the joiner');
    assert.equal(joiner.member('peer-0')?.state, 'alive', 'the joiner lists the seed');
  });

  it('a joiner whose seed answered waits for the admissions its records need before asking the next seed', () => {
    const cluster = new SimulatedCluster(simulationSeed(237));
    withoutRidingAdmissions(cluster);
    const seeds = [cluster.start(0, []).node];
    seeds.push(cluster.start(2, [seeds[0]!.address]).node);
    for (let i = 3; i < 8; i++) cluster.start(i, [seeds[0]!.address]);
    cluster.runUntil(() => seeds.every((s) => s.members().length === 7), 10_000, 'the seeds know all');
    const joinerAddress = SimulatedCluster.addressOf(1);
    // The first seed's admissions reach the joiner 1.5 s late (a starved host reads
    // them late); the joiner's join pushes are noted by seed.
    const late: { bytes: Uint8Array; from: string }[] = [];
    const joinsTo: string[] = [];
    const send = cluster.network.send.bind(cluster.network);
    cluster.network.send = (from, to, bytes) => {
      const decoded = decodeDatagram(bytes);
      if (
        decoded.ok &&
        from === joinerAddress &&
        decoded.messages.some((m) => m.type === 'push-pull' && m.join)
      )
        joinsTo.push(to);
      if (decoded.ok && to === joinerAddress && decoded.messages.some((m) => m.type === 'admission')) {
        late.push({ bytes, from });
        return;
      }
      send(from, to, bytes);
    };
    const joiner = cluster.start(1, [seeds[0]!.address, seeds[1]!.address]).node;
    cluster.run(1_500);
    assert.equal(joinsTo.length, 1, `joins sent to ${joinsTo.join(', ')}`);
    assert.equal(joiner.joined, false);
    for (const { bytes, from } of late.splice(0)) send(from, joinerAddress, bytes);
    cluster.network.send = send;
    cluster.run(100);
    assert.equal(joiner.joined, true, 'joined through the seed that answered');
    assert.equal(joinsTo.length, 1, 'no other seed asked');
  });

  it('a joiner whose seed answered but who lists no one yet is not joined, and asks the next seed', () => {
    const cluster = new SimulatedCluster(simulationSeed(229));
    const seeds = [cluster.start(0, []).node];
    withoutRidingAdmissions(cluster);
    seeds.push(cluster.start(2, [seeds[0]!.address]).node);
    // Enough members that a seed's first answer fills all the joiner's padded join paid for.
    for (let i = 3; i < 16; i++) cluster.start(i, [seeds[0]!.address]);
    cluster.runUntil(() => seeds.every((s) => s.members().length === 15), 10_000, 'the seeds know all');
    const joinerAddress = SimulatedCluster.addressOf(1);
    // The joiner's first two admissions are lost: its introduction, then its answer to
    // the seed's request for it. (The simulation met this at N = 600 with 1% loss: the
    // joiner counted as joined on the seed's answer, asked no other seed, and stayed alone.)
    // Nor does the first seed's own admission reach it in that time (the seed sends it
    // to an unlisted asker only within the bytes the asker sent: a request datagram
    // holding several requests pays for it).
    const lostTo: string[] = [];
    let seedSilentUntil = 0;
    const send = cluster.network.send.bind(cluster.network);
    cluster.network.send = (from, to, bytes) => {
      const fromSeed =
        from === seeds[0]!.address && to === joinerAddress && cluster.clock.now() < seedSilentUntil;
      const watched = (from === joinerAddress && lostTo.length < 2) || fromSeed;
      const decoded = watched ? decodeDatagram(bytes) : undefined;
      if (decoded?.ok && decoded.messages.some((m) => m.type === 'admission')) {
        if (!fromSeed) lostTo.push(to);
        return;
      }
      send(from, to, bytes);
    };
    seedSilentUntil = cluster.clock.now() + 500;
    const joiner = cluster.start(
      1,
      seeds.map((s) => s.address),
    ).node;
    cluster.run(500);
    assert.equal(lostTo.length, 2, 'both admissions were lost');
    assert.equal(lostTo[0], lostTo[1], 'both to the first seed asked');
    assert.equal(
      joiner.joined,
      false,
      'the seed answered, but its records wait for admissions it will not send',
    );
    cluster.run(2_500);
    assert.equal(joiner.joined, true, 'joined through the other seed');
    for (const seed of seeds) {
      assert.equal(joiner.member(seed.name)?.state, 'alive', `the joiner lists ${seed.name}`);
      assert.equal(seed.member('peer-1')?.state, 'alive', `${seed.name} lists the joiner`);
    }
  });
});
