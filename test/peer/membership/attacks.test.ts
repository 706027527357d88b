// Issue 13's attacks on membership, each performed on a simulated cluster by an
// outsider who can send any datagram from its own address. Identity theft
// itself (someone else's record accepted) is closed by signed records; these
// are the bounds that hold whatever a datagram says.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_MEMBERS } from '../../../src/enclave/requests.ts';
import { membershipConfig, PEER_DEFAULTS } from '../../../src/peer/config.ts';
import { MembershipNode } from '../../../src/peer/membership-node.ts';
import type { Transport } from '../../../src/peer/transport/transport.ts';
import { encodeDatagram, encodeMessage } from '../../../src/protocol/gossip-codec.ts';
import { type GossipMessage, WIRE_LIMITS } from '../../../src/protocol/gossip-messages.ts';
import { seededRandom } from '../../../src/random/seeded-random.ts';
import { ManualClock } from '../../../src/time/clock.ts';
import { publicKey, SimulatedCluster, simulationSeed } from '../support/simulated-cluster.ts';
import { tapNetwork } from '../support/traffic-tap.ts';

const addr = SimulatedCluster.addressOf;
const ATTACKER = '10.9.9.9:7946';
/** Someone else's address the attacker wants traffic aimed at (reflection). */
const REFLECTED = '10.8.8.8:53';
const MAX_DATAGRAM = 1400;

/**
 * Open membership (no admission): these attacks test the bounds and limits
 * themselves, which must hold even where every record were believed; with
 * admission on, made-up records are refused earlier (admission-attacks.test.ts).
 */
function convergedCluster(seed: number, peers: number, overrides = {}): SimulatedCluster {
  const c = new SimulatedCluster(simulationSeed(seed), overrides, { admission: false });
  c.startMany(peers);
  c.runUntil(() => c.converged(), 10_000, 'convergence before the attack');
  return c;
}

/** As many copies of `message` (varied by `vary`) as fit one datagram. */
function fullDatagram(vary: (i: number) => GossipMessage): Uint8Array {
  const messages: Uint8Array[] = [];
  let size = 4;
  for (let i = 0; messages.length < WIRE_LIMITS.messagesMax; i++) {
    const encoded = encodeMessage(vary(i));
    if (size + encoded.length > MAX_DATAGRAM) break;
    messages.push(encoded);
    size += encoded.length;
  }
  return encodeDatagram(messages);
}

const counters = (c: SimulatedCluster, name: string) => c.peer(name).node.counters.snapshot();

describe('attacks on membership by an outsider', () => {
  it('a claim at the highest incarnation leaves its victim a refutation every peer decodes, and it still leaves', async () => {
    const c = convergedCluster(151, 4);
    const stolen = {
      name: 'peer-1',
      incarnation: WIRE_LIMITS.incarnationMax,
      address: ATTACKER,
      publicKey: publicKey(9),
    };
    for (const p of c.live())
      c.network.send(ATTACKER, p.node.address, encodeDatagram([{ type: 'alive', member: stolen }]));
    c.run(5000);
    for (const p of c.live()) {
      const { dropped } = p.node.counters.snapshot();
      assert.equal(dropped['bad-number'] ?? 0, 0, `${p.node.name} refused a refutation it could not decode`);
      assert.equal(dropped['internal-error'] ?? 0, 0, p.node.name);
    }
    const victim = c.peer('peer-1').node;
    assert.ok(victim.self.incarnation <= WIRE_LIMITS.incarnationMax);
    const left = victim.leave();
    c.run(100);
    await left;
    assert.equal(c.peer('peer-0').node.member('peer-1')?.state, 'left', 'its goodbye decoded and believed');
  });

  it('made-up members fill the table no further than its bound, and each one refused is counted', () => {
    const c = convergedCluster(157, 3, { maxMembers: 8 });
    // 40 made-up members, 10 a datagram (records carry a 64-byte signature field).
    for (const batch of [0, 1, 2, 3]) {
      const fakes = Array.from({ length: 10 }, (_, i) => ({
        type: 'alive' as const,
        member: {
          name: `fake-${batch * 10 + i}`,
          incarnation: 1,
          address: `10.7.${batch}.${i + 1}:7946`,
          publicKey: new Uint8Array(32),
        },
      }));
      c.network.send(ATTACKER, addr(0), encodeDatagram(fakes));
    }
    c.run(50);
    const victim = c.peer('peer-0').node;
    assert.equal(victim.members().length, 8);
    assert.equal(counters(c, 'peer-0').ignored['table-full'], 40 - (8 - 3));
    for (const honest of ['peer-1', 'peer-2']) assert.equal(victim.member(honest)?.state, 'alive');
  });

  it('keeps the default table bound within what the enclave accepts in one elect request', () => {
    assert.ok(membershipConfig(PEER_DEFAULTS).maxMembers <= MAX_MEMBERS);
  });

  it('sends indirect probes only to members at their announced addresses (no reflection)', () => {
    const c = convergedCluster(163, 3);
    const tap = tapNetwork(c.network);
    const datagram = fullDatagram((i) => ({
      type: 'indirect-ping',
      seq: i,
      target: i % 2 === 0 ? 'peer-1' : `n${i}`,
      targetAddress: REFLECTED,
      source: 'x',
    }));
    assert.ok(datagram.length > 1300, 'one full datagram');
    c.network.send(ATTACKER, addr(0), datagram);
    c.run(1000);
    assert.equal(tap.bytes(addr(0), REFLECTED), 0, 'nothing to the address written in the datagram');
    assert.ok(tap.bytes(addr(0), ATTACKER) <= datagram.length, 'at most what the attacker sent');
    assert.ok((counters(c, 'peer-0').ignored['indirect-target'] ?? 0) > 0, 'refusals counted');
  });

  it('answers a datagram of 126 pulls from an unproven address with at most the bytes it carried', () => {
    const c = convergedCluster(167, 4);
    const tap = tapNetwork(c.network);
    const datagram = fullDatagram((i) => ({ type: 'pull', syncId: i, bucket: 0, buckets: 1, hashes: [] }));
    for (let round = 0; round < 5; round++) {
      c.network.send(ATTACKER, addr(0), datagram);
      c.run(200);
    }
    const drawn = tap.bytes(addr(0), ATTACKER);
    assert.ok(drawn <= 5 * datagram.length, `drew ${drawn} bytes for ${5 * datagram.length} sent`);
  });

  it('a recorded datagram replayed from another address changes nothing and draws at most its own bytes', () => {
    const c = convergedCluster(173, 4);
    const tap = tapNetwork(c.network);
    const before = c.peer('peer-0').node.members();
    const self1 = c.peer('peer-1').node.self;
    const recorded = encodeDatagram([
      { type: 'ping', seq: 41, target: 'peer-0', source: 'peer-1' },
      { type: 'ack', seq: 17 },
      { type: 'alive', member: self1 },
      {
        type: 'suspect',
        name: 'peer-2',
        incarnation: c.peer('peer-2').node.self.incarnation - 1,
        from: 'peer-1',
      },
      { type: 'pull', syncId: 3, bucket: 0, buckets: 1, hashes: [] },
    ]);
    for (let i = 0; i < 10; i++) c.network.send(ATTACKER, addr(0), recorded);
    c.run(200);
    const after = c.peer('peer-0').node.members();
    assert.deepEqual(
      after.map(({ name, state, incarnation, address }) => ({ name, state, incarnation, address })),
      before.map(({ name, state, incarnation, address }) => ({ name, state, incarnation, address })),
    );
    assert.ok(tap.bytes(addr(0), ATTACKER) <= 10 * recorded.length);
  });
});

describe('the amplification limit leaves honest joins alone', () => {
  it('asks the next seed from a timer, though no seed has sent anything yet', () => {
    const c = new SimulatedCluster(simulationSeed(179));
    c.start(2, []);
    c.start(3, []);
    // The first ask is lost; the second goes from the join timer a second later.
    c.network.cut(addr(1), addr(2));
    c.network.cut(addr(1), addr(3));
    const joiner = c.start(1, [addr(2), addr(3)]).node;
    c.run(500);
    c.network.heal();
    const took = c.runUntil(() => joiner.joined, 3000, 'join through the second seed');
    assert.ok(took >= 400, `joined after ${took + 500} ms, through the retry`);
    assert.equal(joiner.counters.snapshot().withheld.held ?? 0, 0);
  });
});

describe('no exception escapes the membership shell', () => {
  it('keeps running when sending throws on a timer, and counts it', async () => {
    const clock = new ManualClock(1000);
    let handler: ((bytes: Uint8Array, from: string) => void) | undefined;
    const failing: Transport = {
      address: '10.0.0.1:7946',
      send: () => {
        throw new Error('EPERM');
      },
      onPacket: (h) => {
        handler = h;
      },
      close: async () => {},
    };
    const node = new MembershipNode({
      name: 'peer-0',
      publicKey: publicKey(0),
      incarnation: 1,
      config: membershipConfig(PEER_DEFAULTS),
      transport: failing,
      clock,
      random: seededRandom(5),
    });
    node.join(['10.0.0.2:7946']);
    for (let t = 0; t < 3000; t += 10) clock.advance(10);
    handler?.(encodeDatagram([{ type: 'ping', seq: 1, target: 'peer-0', source: 'x' }]), '10.0.0.3:7946');
    assert.ok((node.counters.snapshot().dropped['internal-error'] ?? 0) > 0);
    const left = node.leave(10);
    clock.advance(10);
    await left;
  });
});
