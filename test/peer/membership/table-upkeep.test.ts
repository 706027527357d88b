// Upkeep that runs on timers rather than on input: dead members leave the
// table after their retention, and admissions about to lapse are asked for
// again. Both used to walk the whole table on a fixed beat (every second,
// every 5 s); now each walks only when something is due, and these tests pin
// down that nothing due is missed.
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

describe('table upkeep', () => {
  it('asks a member for its renewed admission once the old one is in its last third, and not before', () => {
    // m1's admission lapses at 15 s (last third from 10 s); m2's and m3's in an hour.
    const { run } = peer([15_000, 3_600_000, 3_600_000], 301);
    const asked = run(0, 14_000).filter((s) => s.message.type === 'admission-request');
    const names = asked.flatMap((s) => (s.message.type === 'admission-request' ? s.message.names : []));
    assert.ok(names.includes('m1'), 'm1 asked for its renewal');
    const first = asked.find((s) => s.message.type === 'admission-request')!;
    assert.ok(first.at >= 10_000 && first.at <= 10_500, `asked at ${first.at} ms, when due (10 s)`);
    assert.deepEqual([...new Set(names)], ['m1'], 'the others are not due');
  });

  it('removes dead members after their retention, also one that died after the first was due', () => {
    const { core, run } = peer([3_600_000, 3_600_000, 3_600_000], 302);
    const retention = PEER_DEFAULTS.deadRetentionMs;
    run(0, 1_000);
    core.receive(address(2), [{ type: 'dead', name: 'm1', incarnation: 1, from: 'm2' }], 1_000);
    run(1_000, 21_000);
    core.receive(address(2), [{ type: 'dead', name: 'm3', incarnation: 1, from: 'm2' }], 21_000);
    run(21_000, retention + 1_000);
    assert.equal(core.member('m1')?.state, 'dead', 'kept for its retention');
    run(retention + 1_000, retention + 3_000);
    assert.equal(core.member('m1'), undefined, 'm1 reaped');
    assert.equal(core.member('m3')?.state, 'dead', 'm3 is not due yet');
    run(retention + 3_000, retention + 23_000);
    assert.equal(core.member('m3'), undefined, 'm3 reaped');
    assert.equal(core.member('m2')?.state, 'alive');
  });
});
