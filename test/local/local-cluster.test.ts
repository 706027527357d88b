// LocalCluster with real processes on loopback: a peer added after the first
// peers (the reserved seeds) were killed still joins the survivors.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { LocalCluster, peerStatus } from '../../src/local/local-cluster.ts';

async function membersSeenBy(port: number): Promise<string[]> {
  const status = await peerStatus(port, 1000).catch(() => null);
  return (status?.members ?? []).filter((m) => m.state === 'alive').map((m) => m.name);
}

describe('LocalCluster', () => {
  let cluster: LocalCluster;
  before(async () => {
    cluster = new LocalCluster({ peers: 3, policy: 'highest-id', leaseMs: 2000, env: { LOG_LEVEL: 'warn' } });
    await cluster.start();
  });
  after(() => cluster.stop());

  it('seeds a peer added after the first peers were killed from the peers still running', async () => {
    const [first, second] = cluster.peers();
    await cluster.signal(first!, 'SIGKILL');
    await cluster.signal(second!, 'SIGKILL');
    const revived = await cluster.addPeer();
    const deadline = Date.now() + 20_000;
    let seen: string[] = [];
    while (Date.now() < deadline) {
      seen = await membersSeenBy(revived.port);
      if (seen.includes('peer-3')) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.ok(seen.includes('peer-3'), `peer-4 sees only ${JSON.stringify(seen)}`);
  });
});
