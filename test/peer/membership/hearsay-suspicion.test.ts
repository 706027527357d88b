// Suspicions read in another member's table (anti-entropy) are hearsay: held
// and timed here, never spread as this peer's own word nor counted as an
// independent confirmation. On a starved host, a peer that spread each one
// as its own started a fresh cluster-wide rumour per suspect in every pull
// answer (bench membership --peers 1000: thousands a second).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { signRecord } from '../../../src/crypto/member-record-signature.ts';
import { PeerAuthority } from '../../../src/peer/admission/member-authority.ts';
import { membershipConfig, PEER_DEFAULTS } from '../../../src/peer/config.ts';
import { Membership } from '../../../src/peer/membership/membership.ts';
import { decodeDatagram, encodeDatagram } from '../../../src/protocol/gossip-codec.ts';
import type { GossipMessage } from '../../../src/protocol/gossip-messages.ts';
import { seededRandom } from '../../../src/random/seeded-random.ts';
import { privateKey, publicKey, simulatedEnclaves, simulationSeed } from '../support/simulated-cluster.ts';
import { SIM_CLUSTER } from '../support/test-admissions.ts';

const address = (i: number) => `10.0.0.${i + 1}:7946`;

/** Member i's signed alive record. */
function record(i: number, incarnation = 1) {
  const fields = { name: `m${i}`, incarnation, address: address(i), publicKey: publicKey(i) };
  return { ...fields, signature: signRecord(fields, privateKey(i)) };
}

/** Peer m0 with admission on, its wall clock equal to `now` (ms), and members m1..m3 admitted for `ttlMs`. */
function peer(ttls: number[], seed: number) {
  const { cluster: enclave } = simulatedEnclaves();
  const authority = new PeerAuthority({
    clusterId: SIM_CLUSTER,
    keys: enclave.keys,
    now: () => wall,
    signer: privateKey(0),
  });
  let wall = 0;
  authority.setOwn(enclave.issue('m0', publicKey(0), { now: 0 }));
  const core = new Membership({
    self: record(0),
    config: { ...membershipConfig(PEER_DEFAULTS), awarenessMax: 1 },
    random: seededRandom(simulationSeed(seed)),
    now: 0,
    datagramOverhead: 4,
    authority,
  });
  ttls.forEach((ttlMs, k) => {
    const i = k + 1;
    const messages: GossipMessage[] = [
      { type: 'admission', token: enclave.issue(`m${i}`, publicKey(i), { now: 0, ttlMs }) },
      { type: 'alive', member: record(i) },
    ];
    core.receive(address(i), messages, 0);
  });
  /** Tick to `until`, acking every ping at once; the messages sent, with when and to whom. */
  const run = (from: number, until: number) => {
    const sent: { at: number; to: string; message: GossipMessage }[] = [];
    for (let now = from; now < until; now += 10) {
      wall = now;
      const pending = [...core.tick(now)];
      while (pending.length > 0) {
        const effect = pending.shift()!;
        if (effect.type !== 'send') continue;
        const decoded = decodeDatagram(encodeDatagram(effect.messages));
        assert.ok(decoded.ok);
        for (const message of decoded.messages) {
          sent.push({ at: now, to: effect.to, message });
          if (message.type === 'ping')
            pending.push(...core.receive(effect.to, [{ type: 'ack', seq: message.seq }], now));
        }
      }
    }
    return sent;
  };
  return { core, run };
}

/** A pull answer from `from` listing member `i` as `state`. */
function answer(i: number, state: 'suspect' | 'dead'): GossipMessage {
  return {
    type: 'push-pull',
    syncId: 1,
    join: false,
    response: true,
    part: 0,
    parts: 1,
    entries: [{ state, ...record(i) }],
  };
}

/** Suspect rumours sent, as "name from suspector", except the buddy ping's copy to the suspect itself. */
const suspicionsSent = (sent: { to: string; message: GossipMessage }[]) =>
  sent.flatMap((s) =>
    s.message.type === 'suspect' && s.to !== address(Number(s.message.name.slice(1)))
      ? [`${s.message.name} from ${s.message.from}`]
      : [],
  );

describe('suspicions heard through anti-entropy', () => {
  for (const state of ['suspect', 'dead'] as const) {
    it(`holds a member listed ${state} in a pull answer as suspect, and starts no rumour of its own about it`, () => {
      const { core, run } = peer([3_600_000, 3_600_000, 3_600_000], 311);
      run(0, 1_000);
      core.receive(address(2), [answer(1, state)], 1_000);
      assert.equal(core.member('m1')?.state, 'suspect');
      const sent = run(1_000, 1_400);
      assert.deepEqual(
        suspicionsSent(sent).filter((s) => s.endsWith('from m0')),
        [],
        'no "suspect m1 from m0": m0 saw no evidence',
      );
    });
  }

  it("still relays the suspector's own rumour when it comes, as a confirmation", () => {
    const { core, run } = peer([3_600_000, 3_600_000, 3_600_000], 312);
    run(0, 1_000);
    core.receive(address(2), [answer(1, 'suspect')], 1_000);
    core.receive(address(3), [{ type: 'suspect', name: 'm1', incarnation: 1, from: 'm3' }], 1_000);
    const sent = run(1_000, 1_400);
    assert.ok(suspicionsSent(sent).includes('m1 from m3'), `relayed: ${suspicionsSent(sent).join(', ')}`);
  });
});
