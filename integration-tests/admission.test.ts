// Issue 13: an outsider on the cluster network runs this project's own `peer`
// with only the public root certificate (no join secret). It must never be
// listed by an honest peer, never be a candidate in a certificate, never get a
// lease, while the honest peers keep agreeing on their leader.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { newRunId, sweep } from './support/docker.ts';
import { AGREEMENT_MS, decodeJws, ElectionCluster, sleep } from './support/election-cluster.ts';

process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';

const OUTSIDER = 'outsider-1';
const WATCH_MS = 20_000;

describe('admission: an outsider running peer without the credential', { timeout: 600_000 }, () => {
  const runId = newRunId();
  let cluster: ElectionCluster;

  before(async () => {
    cluster = await ElectionCluster.start({ runId, suffix: 'admission', peers: 4 });
    await cluster.actingLeader(60_000);
    await cluster.startOutsider(OUTSIDER);
  });

  after(async () => {
    await cluster?.close();
    await sweep(runId);
  });

  it('is never listed by an honest peer and never leads, while the honest peers keep agreeing', async () => {
    const deadline = Date.now() + WATCH_MS;
    let rounds = 0;
    while (Date.now() < deadline) {
      const agreement = await cluster.agreed('honest peers agree', AGREEMENT_MS);
      assert.notEqual(agreement.leader, OUTSIDER);
      for (const [name, status] of agreement.statuses) {
        const listed = (status.members ?? []).filter((m) => m.name === OUTSIDER);
        assert.deepEqual(listed, [], `${name} lists the outsider (round ${rounds})`);
      }
      rounds++;
      await sleep(500);
    }
    assert.ok(rounds >= 10, `only ${rounds} rounds observed`);
    const elected = (await cluster.logLines('enclave')).filter((l) => l.event === 'enclave.elected');
    assert.ok(elected.every((l) => l.leader !== OUTSIDER));
    const certificate = (await cluster.status('peer-1')).leader?.certificate;
    if (certificate)
      assert.notEqual((decodeJws(certificate).claims.leader as { name: string }).name, OUTSIDER);
  });
});
