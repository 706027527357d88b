// Property: well-formed hostile gossip (test/support/hostile-gossip.ts) is as
// harmless as random bytes. Delivered to a peer that knows two members, no
// datagram makes the shell or the core throw (from the socket handler or from
// the timers that run afterwards), every datagram is counted, and a sender
// that is no member draws at most the bytes it sent. The members
// are only addresses with no peer behind them, so every datagram the victim
// receives is the attacker's. Run twice: with open membership (every
// well-formed record is believed, so the most reaches the table, timers and
// replies), and with admission on, where the generator adds forged, tampered,
// expired and replayed admissions and forged or misplaced record signatures,
// and no one but a member's own key may change its record. HOSTILE_CASES sets
// how many datagrams per run (default 5,000; CI runs 100,000); the count run
// is reported as a test diagnostic.
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import fc from 'fast-check';
import { signRecord } from '../../../src/crypto/member-record-signature.ts';
import type { MembershipNode } from '../../../src/peer/membership-node.ts';
import { encodeDatagram, encodeMessage } from '../../../src/protocol/gossip-codec.ts';
import type { GossipMessage, MemberRecord } from '../../../src/protocol/gossip-messages.ts';
import { type HostileCredentials, hostileArbitraries, STRANGERS } from '../../support/hostile-gossip.ts';
import {
  privateKey,
  publicKey,
  SimulatedCluster,
  simulatedEnclaves,
  simulationSeed,
} from '../support/simulated-cluster.ts';
import { newIdentity } from '../support/test-admissions.ts';
import { tapNetwork } from '../support/traffic-tap.ts';

const CASES = Number(process.env.HOSTILE_CASES ?? 5000);

/** Honest members 1 and 2: name and address (no peer runs behind them). */
const MEMBERS = [1, 2].map((i) => ({ name: `peer-${i}`, address: SimulatedCluster.addressOf(i) }));

/** Member i's record at incarnation 1, signed by its own key when `signed`. */
function honestRecord(i: number, incarnation = 1, signed = true): MemberRecord {
  const fields = { ...MEMBERS[i - 1]!, incarnation, publicKey: publicKey(i) };
  return signed ? { ...fields, signature: signRecord(fields, privateKey(i)) } : fields;
}

/** Deliver `messages` to the victim from member i's address, and let them land. */
function fromMember(cluster: SimulatedCluster, victim: MembershipNode, i: number, messages: GossipMessage[]) {
  cluster.network.send(MEMBERS[i - 1]!.address, victim.address, encodeDatagram(messages.map(encodeMessage)));
  cluster.run(10);
}

/**
 * Send `CASES` hostile datagrams; after each, the victim has counted every
 * datagram, hit no internal error, and given no stranger more bytes than it
 * sent. `invariant` adds a check of the victim's table after each.
 */
function attack(
  t: TestContext,
  cluster: SimulatedCluster,
  victim: MembershipNode,
  credentials?: HostileCredentials,
  invariant?: () => void,
): void {
  const internalErrors: unknown[] = [];
  victim.on((event) => {
    if (event.event === 'internal.error') internalErrors.push(event);
  });
  const { datagram, from } = hostileArbitraries({
    selfName: victim.name,
    selfAddress: victim.address,
    members: MEMBERS,
    maxDatagramBytes: 1400,
    ...(credentials ? { credentials } : {}),
  });
  const tap = tapNetwork(cluster.network);
  const sent = new Map<string, number>();
  let delivered = 0;
  const before = victim.counters.snapshot().datagramsIn;
  const started = performance.now();
  fc.assert(
    fc.property(datagram, from, fc.integer({ min: 0, max: 300 }), (d, sender, waitMs) => {
      cluster.network.send(sender, victim.address, d.bytes);
      sent.set(sender, (sent.get(sender) ?? 0) + d.bytes.length);
      delivered++;
      // Delivery and every timer it arms run inside the clock: a throw escapes here.
      cluster.run(1 + waitMs);
      const counters = victim.counters.snapshot();
      assert.equal(counters.datagramsIn - before, delivered, 'every datagram is counted on arrival');
      assert.equal(counters.dropped['internal-error'] ?? 0, 0, JSON.stringify(internalErrors[0]));
      for (const stranger of STRANGERS) {
        const drawn = tap.bytes(victim.address, stranger);
        assert.ok(drawn <= (sent.get(stranger) ?? 0), `${stranger} drew ${drawn} for ${sent.get(stranger)}`);
      }
      invariant?.();
    }),
    { numRuns: CASES, seed: cluster.seed },
  );
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  t.diagnostic(`hostile datagrams delivered: ${delivered} in ${seconds} s (seed ${cluster.seed})`);
  t.diagnostic(`refused by reason: ${JSON.stringify(Object.fromEntries(victim.counters.dropped))}`);
  assert.equal(delivered, CASES);
}

describe('hostile but well-formed gossip', () => {
  it('never throws out of a socket handler or a timer, and every datagram is counted', (t) => {
    const cluster = new SimulatedCluster(simulationSeed(131), {}, { admission: false });
    const victim = cluster.start(0, []).node;
    for (const i of [1, 2])
      fromMember(cluster, victim, i, [{ type: 'alive', member: honestRecord(i, 1, false) }]);
    assert.equal(victim.members().length, 3);
    attack(t, cluster, victim);
  });

  it('with admission on: forged admissions and signatures change no member, throw nothing, are counted', (t) => {
    const cluster = new SimulatedCluster(simulationSeed(137));
    const victim = cluster.start(0, []).node;
    const { cluster: enclave, outsider } = simulatedEnclaves();
    for (const i of [1, 2]) {
      fromMember(cluster, victim, i, [
        { type: 'admission', token: enclave.issue(`peer-${i}`, publicKey(i), { now: 0 }) },
        { type: 'alive', member: honestRecord(i) },
      ]);
    }
    assert.deepEqual(
      victim
        .members()
        .map((m) => m.name)
        .sort(),
      ['peer-0', 'peer-1', 'peer-2'],
      'the honest members are listed before the attack',
    );
    // The attacker's own key, and a malicious member's: peer-3 is admitted, with a key the attacker holds.
    const attacker = newIdentity();
    const malicious = newIdentity();
    const admittedMalicious = enclave.issue('peer-3', malicious.publicKey, { now: 0 });
    const credentials: HostileCredentials = {
      tokens: [
        enclave.issue('peer-1', publicKey(1), { now: 0 }),
        enclave.issue('peer-2', publicKey(2), { now: 0 }),
        admittedMalicious,
        // Forged: the right claims, signed by an enclave key nobody attested.
        outsider.issue('peer-1', attacker.publicKey, { now: 0 }),
        outsider.issue(victim.name, attacker.publicKey, { now: 0 }),
        outsider.issue('ghost', attacker.publicKey, { now: 0 }),
        // A former member's admission, long expired.
        enclave.issue('fake-0', attacker.publicKey, { now: 0, ttlMs: 1 }),
      ],
      signers: [attacker, malicious],
      recorded: [
        honestRecord(1),
        honestRecord(2),
        honestRecord(1, 9),
        (() => {
          const fields = {
            name: 'peer-3',
            incarnation: 1,
            address: '10.0.9.9:7946',
            publicKey: malicious.publicKey,
          };
          return { ...fields, signature: signRecord(fields, malicious.privateKey) };
        })(),
      ],
    };
    attack(t, cluster, victim, credentials, () => {
      for (const m of victim.members()) {
        // No outsider is listed; only the admitted malicious member may add itself.
        assert.ok(['peer-0', 'peer-1', 'peer-2', 'peer-3'].includes(m.name), `${m.name} was listed`);
        const own = m.name === 'peer-3' ? malicious.publicKey : publicKey(Number(m.name.slice(5)));
        assert.deepEqual(m.publicKey, own, `${m.name}'s key was replaced`);
      }
    });
  });
});
