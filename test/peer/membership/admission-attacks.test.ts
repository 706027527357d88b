// Attacks on membership, each performed as an attacker would (issue 13):
// an outsider running this project's peer without an admission, identity
// theft by one datagram, fake members by one datagram, and an admitted member
// speaking for another or minting a second name. Every honest peer's view of
// every other member must stay as it was. SIM_SEED=<seed> replays a failure.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import type { MembershipEvent } from '../../../src/peer/membership/membership-events.ts';
import { encodeDatagram } from '../../../src/protocol/gossip-codec.ts';
import { type GossipMessage, WIRE_LIMITS } from '../../../src/protocol/gossip-messages.ts';
import { publicKey, SimulatedCluster, simulationSeed } from '../support/simulated-cluster.ts';
import { newIdentity } from '../support/test-admissions.ts';

const addr = SimulatedCluster.addressOf;
const ATTACKER = '10.66.6.6:7946';

function attackerKey(): Uint8Array {
  const { publicKey: key } = generateKeyPairSync('ed25519');
  return new Uint8Array(key.export({ format: 'der', type: 'spki' }).subarray(-32));
}

/** Four honest, admitted peers that have converged. */
function honestCluster(seed: number): SimulatedCluster {
  const c = new SimulatedCluster(simulationSeed(seed));
  c.startMany(4);
  c.runUntil(() => c.converged(), 10_000, 'convergence');
  return c;
}

/** Every honest peer (all live ones unless named) still sees peer-i alive, at its own address, with its own key. */
function viewIntact(c: SimulatedCluster, i: number, honest?: Set<string>): void {
  for (const p of c.live()) {
    if (p.node.name === `peer-${i}` || (honest && !honest.has(p.node.name))) continue;
    const seen = p.node.member(`peer-${i}`);
    assert.ok(seen, `${p.node.name} lost peer-${i} (seed ${c.seed})`);
    assert.deepEqual(
      { state: seen.state, address: seen.address, key: Buffer.from(seen.publicKey).toString('hex') },
      { state: 'alive', address: addr(i), key: Buffer.from(publicKey(i)).toString('hex') },
      `${p.node.name}'s view of peer-${i} (seed ${c.seed})`,
    );
  }
}

const honestNames = (c: SimulatedCluster) => new Set(c.live().map((p) => p.node.name));

/** No honest peer lists anyone but the honest peers. */
function onlyHonestListed(c: SimulatedCluster, honest: Set<string>): void {
  for (const p of c.live()) {
    if (!honest.has(p.node.name)) continue;
    const strangers = p.node.members().filter((m) => !honest.has(m.name));
    assert.deepEqual(
      strangers.map((m) => `${m.name}:${m.state}`),
      [],
      `${p.node.name} lists strangers (seed ${c.seed})`,
    );
  }
}

const internalErrors = (c: SimulatedCluster): MembershipEvent[] =>
  c.live().flatMap((p) => p.events.filter((e) => e.event === 'internal.error'));

function inject(c: SimulatedCluster, from: string, to: string, messages: GossipMessage[]): void {
  c.network.send(from, to, encodeDatagram(messages));
}

describe('membership under attack (simulated)', () => {
  it('an outsider running the peer code without an admission is never listed', () => {
    const c = honestCluster(1301);
    const honest = honestNames(c);
    c.start(9, [addr(0)], 1, addr(9), { admitted: false });
    c.run(15_000);
    onlyHonestListed(c, honest);
    for (let i = 0; i < 4; i++) viewIntact(c, i, honest);
  });

  it("identity theft: an alive record with a huge incarnation and the attacker's key changes nobody's view", () => {
    const c = honestCluster(1302);
    const victim = c.peer('peer-1').node.self;
    const stolen = { name: 'peer-1', address: ATTACKER, publicKey: attackerKey() };
    for (const incarnation of [Number.MAX_SAFE_INTEGER, 2 ** 40, victim.incarnation + 1]) {
      for (let i = 0; i < 4; i++) {
        inject(c, ATTACKER, addr(i), [{ type: 'alive', member: { ...stolen, incarnation } }]);
      }
      c.run(20);
      viewIntact(c, 1);
      c.run(5_000);
    }
    for (let i = 0; i < 4; i++) viewIntact(c, i);
    assert.deepEqual(internalErrors(c), [], `seed ${c.seed}`);
  });

  it('fake members: one datagram of made-up alive records adds nobody', () => {
    const c = honestCluster(1303);
    const honest = honestNames(c);
    const fakes: GossipMessage[] = Array.from({ length: 20 }, (_, k) => ({
      type: 'alive',
      member: {
        name: `ghost-${k}`,
        incarnation: 1,
        address: `10.66.7.${k + 1}:7946`,
        publicKey: attackerKey(),
      },
    }));
    inject(c, ATTACKER, addr(0), fakes);
    c.run(10_000);
    onlyHonestListed(c, honest);
    assert.deepEqual(
      c.live().map((p) => p.node.members().length),
      [4, 4, 4, 4],
    );
  });

  it('an admitted member cannot speak for another: its alive record for a victim, with its own key, is refused', () => {
    const c = honestCluster(1304);
    const victim = c.peer('peer-1').node.self;
    // peer-3 is admitted, and lies about peer-1: its own address and key, a higher incarnation.
    const lie = {
      name: 'peer-1',
      incarnation: victim.incarnation + 1,
      address: addr(3),
      publicKey: publicKey(3),
    };
    for (const i of [0, 2]) inject(c, addr(3), addr(i), [{ type: 'alive', member: lie }]);
    // Not even for a moment (the victim's refutation would undo it later, after others acted on it).
    c.run(20);
    viewIntact(c, 1);
    c.run(10_000);
    viewIntact(c, 1);
  });

  it('Sybil: an admitted member announcing a second name from its own address is not listed', () => {
    const c = honestCluster(1305);
    const honest = honestNames(c);
    const twin = { name: 'peer-3-twin', incarnation: 1, address: '10.0.0.250:7946', publicKey: publicKey(3) };
    for (const i of [0, 1, 2]) inject(c, addr(3), addr(i), [{ type: 'alive', member: twin }]);
    c.run(10_000);
    onlyHonestListed(c, honest);
  });

  it('a restarted member with a new key and a newer admission gets back in under its new key', async () => {
    const c = honestCluster(1306);
    await c.kill('peer-2');
    c.runUntil(() => c.allSee('peer-2', 'dead'), 8000, 'detection');
    const fresh = newIdentity();
    c.start(2, [addr(0)], 1, addr(2), { identity: fresh });
    c.runUntil(() => c.converged(), 10_000, 'rejoin with a new key');
    for (const p of c.live()) {
      if (p.node.name === 'peer-2') continue;
      assert.deepEqual(
        p.node.member('peer-2')?.publicKey,
        fresh.publicKey,
        `${p.node.name} (seed ${c.seed})`,
      );
    }
  });

  it("a suspect, dead or left claim above what a member signed raises nobody's incarnation, and its victims stay alive", () => {
    // Found in review (session 15): such claims were taken at their word. One suspicion of
    // peer-1 at the highest incarnation raised it everywhere, peer-1's refutation could go no
    // higher, and every peer held it dead 30 s later.
    const c = honestCluster(1311);
    const own = (i: number) => c.peer(`peer-${i}`).node.self.incarnation;
    const before = [0, 1, 2, 3].map(own);
    const max = WIRE_LIMITS.incarnationMax;
    for (const p of c.live()) {
      inject(c, ATTACKER, p.node.address, [
        { type: 'suspect', name: 'peer-1', incarnation: max, from: 'peer-0' },
        { type: 'dead', name: 'peer-2', incarnation: max, from: 'peer-0' },
        { type: 'left', name: 'peer-3', incarnation: before[3]! + 1 },
      ]);
    }
    c.run(30_000);
    for (const i of [1, 2, 3]) viewIntact(c, i);
    assert.equal(c.falseDeaths(), 0);
    // A claim about itself near the top could be no earlier life's: ignored. One just above
    // may be (a restarted member outbids what the others remember of it): refuted, signed.
    assert.deepEqual([0, 1, 2].map(own), before.slice(0, 3), 'no victim raised its incarnation to the top');
    assert.ok(own(3) <= before[3]! + 2, `peer-3 refuted once (${before[3]} -> ${own(3)})`);
    for (const p of c.live()) {
      for (const i of [1, 2, 3]) {
        if (p.node.name === `peer-${i}`) continue;
        assert.equal(
          p.node.member(`peer-${i}`)?.incarnation,
          own(i),
          `${p.node.name}'s peer-${i}: what it signed`,
        );
      }
      const ignored = p.node.counters.snapshot().ignored['unsigned-incarnation'] ?? 0;
      assert.ok(ignored >= 1, `${p.node.name} counted the claims it ignored (${ignored})`);
    }
  });

  it('suspicion stays possible and the suspect refutes with a signed record', () => {
    const c = honestCluster(1307);
    const before = c.peer('peer-1').node.self.incarnation;
    inject(c, ATTACKER, addr(0), [{ type: 'suspect', name: 'peer-1', incarnation: before, from: 'peer-3' }]);
    c.runUntil(
      () => c.live().every((p) => (p.node.member('peer-1')?.incarnation ?? 0) > before),
      5000,
      'refutation',
    );
    viewIntact(c, 1);
    assert.equal(c.falseDeaths(), 0);
  });
});
