// 50 peers in this process on real loopback UDP: full membership from a cold
// start, then a peer closed without leave (as SIGKILL would) is marked dead by
// every other peer. Timing-sensitive, so it lives here and not in test/.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { LoopbackCluster, waitFor } from '../bench/support/loopback-cluster.ts';

describe('membership over loopback UDP, 50 peers', () => {
  let cluster: LoopbackCluster | undefined;
  after(async () => {
    await cluster?.close();
  });

  it('reaches full membership, then every peer marks a killed peer dead', async () => {
    cluster = await LoopbackCluster.start({ peers: 50 });
    const convergeMs = await waitFor(() => cluster!.converged(), 20_000);
    assert.ok(
      convergeMs !== undefined,
      `not converged in 20 s: ${cluster.convergedFraction() * 100}% of peers know all`,
    );

    await cluster.kill('peer-17');
    const detectMs = await waitFor(() => cluster!.allMarkedDeadAt('peer-17') !== undefined, 10_000);
    const missing = cluster
      .live()
      .filter((p) => !p.deadAt.has('peer-17'))
      .map((p) => p.node.name);
    assert.ok(detectMs !== undefined, `not marked dead within 10 s by: ${missing.join(', ')}`);
    assert.equal(cluster.falsePositives(), 0, 'no live peer was declared dead');
    for (const p of cluster.live()) assert.equal(p.node.member('peer-17')?.state, 'dead');
  });
});
