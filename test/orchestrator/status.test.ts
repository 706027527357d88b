import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { agreementOf, collectClusterStatus, summaryLine } from '../../src/orchestrator/status-report.ts';
import { renderStatus } from '../../src/orchestrator/status-table.ts';
import { FakeDocker } from './fake-docker.ts';
import { ourCluster, peerStatus, tableReader } from './fixtures.ts';

describe('cluster status', () => {
  it('reports exactly the documented JSON shape, one entry per peer, no pki or enclave', async () => {
    const docker = new FakeDocker();
    ourCluster(docker, 'demo', 3, { 'peer-3': 'exited' });
    const reader = tableReader({
      'peer-1': peerStatus('peer-1', 'peer-2'),
      'peer-2': peerStatus('peer-2', 'peer-2'),
    });
    const report = await collectClusterStatus(docker.client, { kind: 'name', name: 'demo' }, reader);
    const parsed = JSON.parse(JSON.stringify(report));
    assert.deepEqual(Object.keys(parsed).sort(), ['agreed', 'cluster', 'epoch', 'leader', 'peers']);
    assert.equal(parsed.cluster, 'demo');
    assert.equal(parsed.peers.length, 3);
    for (const peer of parsed.peers) {
      assert.deepEqual(Object.keys(peer).sort(), ['container', 'error', 'name', 'state', 'status']);
    }
    assert.deepEqual(
      parsed.peers.map((p: { name: string; state: string; error: string | null }) => [
        p.name,
        p.state,
        p.error,
      ]),
      [
        ['peer-1', 'running', null],
        ['peer-2', 'running', null],
        ['peer-3', 'exited', 'container is exited'],
      ],
    );
    assert.equal(parsed.peers[0].status.leader.name, 'peer-2');
    assert.equal(parsed.peers[2].status, null);
    assert.deepEqual([parsed.agreed, parsed.leader, parsed.epoch], [true, 'peer-2', 7]);
    assert.deepEqual(reader.asked.sort(), ['peer-1', 'peer-2'], 'a stopped container is not asked');
  });

  it('selects a compose project by compose labels and names its peers by /status', async () => {
    const docker = new FakeDocker();
    docker.addContainer({
      name: 'demo-peer-1',
      labels: { 'com.docker.compose.project': 'demo', 'com.docker.compose.service': 'peer' },
    });
    docker.addContainer({
      name: 'demo-enclave-1',
      labels: { 'com.docker.compose.project': 'demo', 'com.docker.compose.service': 'enclave' },
    });
    docker.addContainer({
      name: 'other-peer-1',
      labels: { 'com.docker.compose.project': 'other', 'com.docker.compose.service': 'peer' },
    });
    const reader = tableReader({ 'demo-peer-1': peerStatus('a1b2c3', 'a1b2c3', 1) });
    const report = await collectClusterStatus(docker.client, { kind: 'project', project: 'demo' }, reader);
    assert.deepEqual(
      report.peers.map((p) => [p.container, p.name]),
      [['demo-peer-1', 'a1b2c3']],
    );
    assert.equal(report.cluster, 'demo');
  });

  it('says the cluster does not exist and how to start one', async () => {
    const docker = new FakeDocker();
    await assert.rejects(
      collectClusterStatus(docker.client, { kind: 'name', name: 'nope' }, tableReader({})),
      {
        code: 'E_NOT_FOUND',
        message: /cluster 'nope' has no containers.*cluster up --name nope/,
      },
    );
  });
});

describe('agreement', () => {
  const report = (name: string, state: string, status: ReturnType<typeof peerStatus> | null) => ({
    container: `c-${name}`,
    name,
    state,
    status,
    error: status ? null : 'down',
  });

  it('agrees when every running peer names one verified leader and epoch', () => {
    const reports = [1, 2, 3, 4, 5].map((i) =>
      report(`peer-${i}`, 'running', peerStatus(`peer-${i}`, 'peer-3')),
    );
    assert.deepEqual(agreementOf(reports), {
      agreed: true,
      leader: 'peer-3',
      epoch: 7,
      agreeing: 5,
      running: 5,
      answering: 5,
    });
    assert.equal(summaryLine(reports), '5/5 agree on peer-3, epoch 7');
  });

  it('does not agree across epochs, and reports the majority view', () => {
    const reports = [
      report('peer-1', 'running', peerStatus('peer-1', 'peer-3', 7)),
      report('peer-2', 'running', peerStatus('peer-2', 'peer-3', 7)),
      report('peer-3', 'running', peerStatus('peer-3', 'peer-3', 6)),
    ];
    const a = agreementOf(reports);
    assert.deepEqual([a.agreed, a.leader, a.epoch, a.agreeing], [false, 'peer-3', 7, 2]);
    assert.equal(summaryLine(reports), '2/3 agree on peer-3, epoch 7');
  });

  it('ignores unverified certificates', () => {
    const unverified = peerStatus('peer-1', 'peer-9');
    unverified.leader!.verified = false;
    const reports = [report('peer-1', 'running', unverified)];
    assert.equal(agreementOf(reports).leader, null);
    assert.equal(summaryLine(reports), 'no leader: 0/1 running peers report a verified leader');
  });

  it('counts only running peers, and says who is not running or not answering', () => {
    const reports = [
      report('peer-1', 'running', peerStatus('peer-1', 'peer-1')),
      report('peer-2', 'running', peerStatus('peer-2', 'peer-1')),
      report('peer-3', 'exited', null),
      report('peer-4', 'running', null),
    ];
    const a = agreementOf(reports);
    assert.equal(a.agreed, false, 'a running peer that does not answer prevents agreement');
    assert.equal(summaryLine(reports), '2/3 agree on peer-1, epoch 7 (1 not running, 1 not answering)');
    assert.equal(agreementOf(reports.filter((r) => r.name !== 'peer-4')).agreed, true);
  });

  it('treats a status without leader fields (membership only) as no leader', () => {
    const membershipOnly = { name: 'peer-1', members: [{ name: 'peer-1', state: 'alive' }], counters: {} };
    const reports = [report('peer-1', 'running', membershipOnly)];
    assert.equal(agreementOf(reports).leader, null);
  });
});

describe('status table', () => {
  it('shows one row per peer with members, leader, epoch, lease left, trust and drops, then the summary', () => {
    const leader = peerStatus('peer-2', 'peer-2');
    const untrusted = peerStatus('peer-1', 'peer-2', 7, {
      enclave: { trusted: false, checksum: 'cd', pinnedChecksum: 'ab', error: 'checksum mismatch' },
    });
    leader.leader!.leaseEndsAt = 1_001_500;
    untrusted.leader!.leaseEndsAt = 1_001_500;
    const text = renderStatus(
      [
        {
          container: 'enclave-elect-demo-peer-1',
          name: 'peer-1',
          state: 'running',
          status: untrusted,
          error: null,
        },
        {
          container: 'enclave-elect-demo-peer-2',
          name: 'peer-2',
          state: 'running',
          status: leader,
          error: null,
        },
        {
          container: 'enclave-elect-demo-peer-3',
          name: 'peer-3',
          state: 'paused',
          status: null,
          error: 'container is paused',
        },
        {
          container: 'enclave-elect-demo-peer-4',
          name: 'peer-4',
          state: 'running',
          status: null,
          error: 'ECONNREFUSED',
        },
      ],
      1_000_000,
    );
    const lines = text.trimEnd().split('\n');
    assert.match(
      lines[0]!,
      /^CONTAINER\s+NAME\s+STATE\s+MEMBERS\s+LEADER\s+EPOCH\s+LEASE LEFT\s+ENCLAVE\s+DROPPED$/,
    );
    assert.match(
      lines[1]!,
      /^enclave-elect-demo-peer-1\s+peer-1\s+running\s+2\s+peer-2\s+7\s+1\.5s\s+UNTRUSTED\s+3$/,
    );
    assert.match(lines[2]!, /peer-2\*\s+7\s+1\.5s\s+trusted\s+3$/, 'the peer acting as leader is starred');
    assert.match(lines[3]!, /peer-3\s+paused\s+-\s+-/);
    assert.ok(lines.includes('peer-4: ECONNREFUSED'), 'errors of running peers are listed');
    assert.equal(lines.at(-1), '2/3 agree on peer-2, epoch 7 (1 not running, 1 not answering)');
  });

  it('says at how many peers the agreed lease has run out', () => {
    const fresh = peerStatus('peer-1', 'peer-1', 2);
    const stale = peerStatus('peer-2', 'peer-1', 2);
    stale.leader!.leaseEndsAt = 999_000;
    const line = summaryLine(
      [
        { container: 'a', name: 'peer-1', state: 'running', status: fresh, error: null },
        { container: 'b', name: 'peer-2', state: 'running', status: stale, error: null },
      ],
      1_000_000,
    );
    assert.equal(line, '2/2 agree on peer-1, epoch 2 (lease expired at 1)');
  });

  it('lists the other containers with their Docker status between the table and the summary', () => {
    const text = renderStatus([], 0, [
      { name: 'enclave', container: 'enclave-elect-demo-enclave', statusText: 'Exited (137) 2 seconds ago' },
    ]);
    assert.match(
      text,
      /\nenclave: Exited \(137\) 2 seconds ago \(container enclave-elect-demo-enclave\)\n\nno peers\n$/,
    );
  });

  it('shows an ended lease as expired', () => {
    const status = peerStatus('peer-1', 'peer-1', 2, {});
    status.leader!.leaseEndsAt = new Date(999_000).toISOString();
    const text = renderStatus(
      [{ container: 'c', name: 'peer-1', state: 'running', status, error: null }],
      1_000_000,
    );
    assert.match(text, /peer-1\*\s+2\s+expired/);
  });
});
