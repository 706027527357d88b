// Peers in one process (the simulation, the in-process benches) keep one copy
// of each verified record, with its encoded entry and rumour, instead of one
// per peer: the tables take the copy the signature check kept.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MemberRow } from '../../../src/peer/membership/member-table.ts';
import type { MembershipNode } from '../../../src/peer/membership-node.ts';
import { SimulatedCluster, simulationSeed } from '../support/simulated-cluster.ts';

/** The row `node` keeps for `name` (the table is internal; this test is about what it holds). */
function rowOf(node: MembershipNode, name: string): MemberRow | undefined {
  const core = Reflect.get(node, 'core') as { table: { get(name: string): MemberRow | undefined } };
  return core.table.get(name);
}

describe('verified records shared by the peers of a process', () => {
  it('two peers hold the very same record object for a third, whose key is no view into a datagram', () => {
    const cluster = new SimulatedCluster(simulationSeed(241));
    cluster.startMany(6);
    cluster.runUntil(() => cluster.converged(), 20_000, 'convergence');
    const [a, b] = [
      rowOf(cluster.peer('peer-1').node, 'peer-4'),
      rowOf(cluster.peer('peer-2').node, 'peer-4'),
    ];
    assert.ok(a && b, 'both list peer-4');
    assert.equal(a.record.incarnation, b.record.incarnation);
    assert.equal(a.record, b.record, 'one record object');
    // Kept bytes have a slab of their own (8 KB), never a datagram's (64 KB slabs or its own buffer).
    assert.equal(a.record.publicKey.buffer.byteLength, 8_192);
    assert.equal(a.record.signature?.buffer.byteLength, 8_192);
  });
});
