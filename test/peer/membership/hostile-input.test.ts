// Property: well-formed hostile gossip (test/support/hostile-gossip.ts) is as
// harmless as random bytes. Delivered to a peer that knows two members, no
// datagram makes the shell or the core throw (from the socket handler or from
// the timers that run afterwards), every datagram is counted, and a sender
// that is no member draws at most the bytes it sent. The members
// are only addresses with no peer behind them, so every datagram the victim
// receives is the attacker's. HOSTILE_CASES sets how many datagrams (default 5,000; CI runs
// 100,000); the count run is reported as a test diagnostic.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { encodeDatagram } from '../../../src/protocol/gossip-codec.ts';
import { hostileArbitraries, STRANGERS } from '../../support/hostile-gossip.ts';
import { publicKey, SimulatedCluster, simulationSeed } from '../support/simulated-cluster.ts';
import { tapNetwork } from '../support/traffic-tap.ts';

const CASES = Number(process.env.HOSTILE_CASES ?? 5000);

describe('hostile but well-formed gossip', () => {
  it('never throws out of a socket handler or a timer, and every datagram is counted', (t) => {
    const seed = simulationSeed(131);
    // Open membership, the most permissive case: every well-formed record is
    // believed and reaches the table, timers and replies (admission refuses most earlier).
    const cluster = new SimulatedCluster(seed, {}, { admission: false });
    const victim = cluster.start(0, []).node;
    const members = [1, 2].map((i) => ({ name: `peer-${i}`, address: SimulatedCluster.addressOf(i) }));
    for (const [i, member] of members.entries()) {
      const alive = {
        type: 'alive' as const,
        member: { ...member, incarnation: 1, publicKey: publicKey(i + 1) },
      };
      cluster.network.send(member.address, victim.address, encodeDatagram([alive]));
    }
    cluster.run(10);
    assert.equal(victim.members().length, 3);
    const internalErrors: unknown[] = [];
    victim.on((event) => {
      if (event.event === 'internal.error') internalErrors.push(event);
    });
    const { datagram, from } = hostileArbitraries({
      selfName: victim.name,
      selfAddress: victim.address,
      members,
      maxDatagramBytes: 1400,
    });
    const tap = tapNetwork(cluster.network);
    const sent = new Map<string, number>();
    let delivered = 0;
    const before = victim.counters.snapshot().datagramsIn;
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
          assert.ok(
            drawn <= (sent.get(stranger) ?? 0),
            `${stranger} drew ${drawn} for ${sent.get(stranger)}`,
          );
        }
      }),
      { numRuns: CASES, seed },
    );
    t.diagnostic(`hostile datagrams delivered: ${delivered} (seed ${seed})`);
    assert.equal(delivered, CASES);
  });
});
