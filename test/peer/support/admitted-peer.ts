// One admitted peer (m0) in a core of its own, members m1..m3 admitted for
// given lifetimes, and a loop that ticks it and acks its pings at once.
import assert from 'node:assert/strict';
import { signRecord } from '../../../src/crypto/member-record-signature.ts';
import { PeerAuthority } from '../../../src/peer/admission/member-authority.ts';
import { membershipConfig, PEER_DEFAULTS } from '../../../src/peer/config.ts';
import { Membership } from '../../../src/peer/membership/membership.ts';
import { decodeDatagram, encodeDatagram } from '../../../src/protocol/gossip-codec.ts';
import type { GossipMessage } from '../../../src/protocol/gossip-messages.ts';
import { seededRandom } from '../../../src/random/seeded-random.ts';
import { privateKey, publicKey, simulatedEnclaves, simulationSeed } from './simulated-cluster.ts';
import { SIM_CLUSTER } from './test-admissions.ts';

export const address = (i: number) => `10.0.0.${i + 1}:7946`;

/** Member i's signed alive record. */
export function record(i: number, incarnation = 1) {
  const fields = { name: `m${i}`, incarnation, address: address(i), publicKey: publicKey(i) };
  return { ...fields, signature: signRecord(fields, privateKey(i)) };
}

/** Peer m0 with admission on, its wall clock equal to `now` (ms), and members m1..m3 admitted for `ttlMs`. */
export function peer(ttls: number[], seed: number) {
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
