// Issue 5, tests 1-5, on one cluster of five real peers, the real enclave and
// the mock PKI, laid out like the compose file: convergence on one verified
// leader; failover after `docker kill`; hand-over by resignation on `docker
// stop`; a paused leader that stops acting by itself (no overlapping leader
// intervals, rebuilt from every peer's log); an enclave restart (new key,
// higher epochs, peers re-attest). Each fault is repaired before the next test.
// Timing is asserted against the design's contract, not benchmark targets.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { equivocations, leaderIntervals, overlappingLeaders } from '../src/chaos/invariants.ts';
import { docker, newRunId, sweep } from './support/docker.ts';
import {
  AGREEMENT_MS,
  decodeJws,
  ElectionCluster,
  LEASE_MS,
  sleep,
  until,
} from './support/election-cluster.ts';

process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';

const PEERS = 5;

describe('election in containers: 5 peers, the enclave, failures of the leader', { timeout: 900_000 }, () => {
  const runId = newRunId();
  let cluster: ElectionCluster;

  before(async () => {
    cluster = await ElectionCluster.start({ runId, suffix: 'failover', peers: PEERS });
  });

  after(async () => {
    await cluster?.close();
    await sweep(runId);
  });

  /** Bring a peer back and wait until all five agree again. */
  async function restore(name: string): Promise<void> {
    await cluster.start(name);
    await cluster.agreed(`${name} back: all five agree`, 30_000, (a) => a.statuses.size === PEERS);
  }

  /**
   * DESIGN.md §5 invariants 1 and 2 over every peer's log so far. Logs only grow and
   * a line can trail /status for a moment, so a verdict is re-read for up to 5 s: a
   * real overlap never goes away, one made by a release still in flight does.
   */
  async function checkInvariants(): Promise<void> {
    const deadline = Date.now() + 5000;
    for (;;) {
      const history = await cluster.history();
      const overlaps = overlappingLeaders(history);
      const equivocated = equivocations(history);
      if ((overlaps.ok && equivocated.ok) || Date.now() > deadline) {
        assert.ok(overlaps.ok, `${overlaps.summary}: ${JSON.stringify(overlaps.offending, null, 1)}`);
        assert.ok(equivocated.ok, `${equivocated.summary}: ${JSON.stringify(equivocated.offending)}`);
        return;
      }
      await sleep(500);
    }
  }

  it('1. five peers converge on one verified leader: every /status names the same leader and epoch', async () => {
    const started = Date.now();
    const agreed = await cluster.actingLeader(60_000);
    assert.equal(agreed.statuses.size, PEERS);
    assert.ok(cluster.live().includes(agreed.leader), `leader ${agreed.leader} is one of the peers`);
    for (const [name, s] of agreed.statuses) {
      assert.equal(s.enclave?.trusted, true, `${name} trusts the enclave`);
      assert.equal(s.leader?.policy, 'vrf');
      assert.equal(s.members?.filter((m) => m.state === 'alive').length, PEERS, `${name} sees all five`);
      const { claims } = decodeJws(s.leader!.certificate!);
      assert.deepEqual(
        [claims.epoch, (claims.leader as { name: string }).name, claims.cluster_id],
        [agreed.epoch, agreed.leader, cluster.clusterId],
        `${name}'s certificate says what its status says`,
      );
    }
    console.log(
      `# converged on ${agreed.leader}, epoch ${agreed.epoch}, ${Date.now() - started} ms after start`,
    );
  });

  it('2. docker kill of the leader: the survivors agree on a new leader with a higher epoch', async () => {
    const before = await cluster.actingLeader(30_000);
    const leaseEnd = Math.max(
      ...[...before.statuses.values()].map((s) => Date.parse(String(s.leader!.leaseEndsAt))),
    );
    await cluster.kill(before.leader);
    try {
      const killedAt = Date.now();
      const after = await cluster.agreed(
        'the four survivors agree on a new leader',
        Math.max(0, leaseEnd - Date.now()) + AGREEMENT_MS,
        (a) => a.leader !== before.leader && a.epoch > before.epoch,
      );
      assert.equal(after.statuses.size, PEERS - 1);
      console.log(
        `# killed ${before.leader} (epoch ${before.epoch}); ${after.leader} (epoch ${after.epoch}) agreed ${Date.now() - killedAt} ms later`,
      );
    } finally {
      await restore(before.leader);
    }
  });

  it('3. docker stop of the leader: it resigns and the others agree on the successor before its lease would have ended', async () => {
    const before = await cluster.actingLeader(30_000);
    const old = decodeJws(before.statuses.get(before.leader)!.leader!.certificate!).claims;
    const stoppedAt = Date.now();
    await cluster.stop(before.leader);
    try {
      const stopMs = Date.now() - stoppedAt;
      const info = await docker.getContainer(cluster.containerId(before.leader)).inspect();
      assert.equal(info.State.ExitCode, 0, 'the stopped peer exited by itself, not by SIGKILL');
      const released = (await cluster.events(before.leader)).filter((e) => e.event === 'leader.released');
      assert.deepEqual(
        released.map((e) => [e.epoch, e.reason]).at(-1),
        [before.epoch, 'resigned'],
        `leader.released of ${before.leader}: ${JSON.stringify(released)}`,
      );
      const after = await cluster.agreed(
        'the others agree on the successor',
        AGREEMENT_MS,
        (a) => a.leader !== before.leader && a.epoch > before.epoch,
      );
      const successor = decodeJws(after.statuses.values().next().value!.leader!.certificate!).claims;
      assert.ok(
        Number(successor.iat) < Number(old.lease_end),
        `the enclave granted the successor at ${successor.iat}, before the old lease's end ${old.lease_end}`,
      );
      // When each of them adopted it, by its own log (the host clock): before the old lease's end.
      const adoptedAt: Record<string, number> = {};
      for (const name of cluster.live()) {
        const accepted = (lines: Record<string, unknown>[]) =>
          lines.find((l) => l.event === 'certificate.accepted' && l.epoch === after.epoch);
        const line = accepted(
          await cluster.logLinesUntil(name, `accepted epoch ${after.epoch}`, (lines) => !!accepted(lines)),
        );
        adoptedAt[name] = Date.parse(String(line!.time));
      }
      assert.ok(
        Object.values(adoptedAt).every((t) => t < Number(old.lease_end)),
        `adopted ${JSON.stringify(Object.fromEntries(Object.entries(adoptedAt).map(([n, t]) => [n, t - stoppedAt])))} ms after the stop; the old lease ended ${Number(old.lease_end) - stoppedAt} ms after it`,
      );
      console.log(
        `# stopped ${before.leader} (epoch ${before.epoch}); all others adopted ${after.leader} (epoch ${after.epoch}) ${Math.max(...Object.values(adoptedAt)) - stoppedAt} ms after the stop, ${Number(old.lease_end) - Math.max(...Object.values(adoptedAt))} ms before the old lease's end; docker stop took ${stopMs} ms`,
      );
    } finally {
      await restore(before.leader);
    }
  });

  it('4. docker pause of the leader for 3 x lease: no overlapping leader intervals, and it releases with reason expired', async () => {
    const before = await cluster.actingLeader(30_000);
    const victim = before.leader;
    await cluster.pause(victim);
    const pausedAt = Date.now();
    const others = await cluster.agreed(
      'the others agree on a new leader while it is paused',
      3 * LEASE_MS + AGREEMENT_MS,
      (a) => a.leader !== victim && a.epoch > before.epoch,
    );
    await sleep(Math.max(0, pausedAt + 3 * LEASE_MS - Date.now()));
    await cluster.unpause(victim);
    const unpausedAt = Date.now();
    const released = await until(
      `${victim} logs leader.released for epoch ${before.epoch}`,
      async () =>
        (await cluster.events(victim)).find((e) => e.event === 'leader.released' && e.epoch === before.epoch),
      AGREEMENT_MS,
    );
    assert.equal(released.reason, 'expired', JSON.stringify(released));
    assert.ok(
      released.stoppedAt !== undefined && released.stoppedAt < unpausedAt,
      `it stopped acting (${released.stoppedAt}) before it was unpaused (${unpausedAt})`,
    );
    // DESIGN.md §5, invariant 3: after the fault heals, all agree within lease + 2 s.
    const again = await cluster.agreed(
      'all agree after the unpause',
      Math.max(0, unpausedAt + AGREEMENT_MS - Date.now()),
    );
    assert.ok(again.epoch >= others.epoch);
    const history = await cluster.history();
    const intervals = leaderIntervals(history);
    const paused = intervals.find((i) => i.peer === victim && i.epoch === before.epoch);
    const successor = intervals.find((i) => i.peer === others.leader && i.epoch === others.epoch);
    assert.ok(
      paused && successor && paused.end === 'expired' && paused.to <= successor.from,
      `the paused leader's interval ends (expired) before its successor's begins: ${JSON.stringify([paused, successor])}`,
    );
    await checkInvariants();
    console.log(
      `# paused ${victim} (epoch ${before.epoch}); others agreed on ${others.leader} (epoch ${others.epoch}); it stopped acting ${released.stoppedAt! - pausedAt} ms after the pause`,
    );
  });

  it('5. enclave restart: a new key, peers re-attest, epochs keep growing and the peers agree again', async () => {
    const before = await cluster.agreed('agreement before the restart', 30_000);
    const kidBefore = decodeJws(before.statuses.values().next().value!.leader!.certificate!).header.kid;
    const restartedAt = Date.now();
    await docker.getContainer(cluster.containerId('enclave')).restart({ t: 5 });
    const listening = await until(
      'the enclave listens again',
      async () => (await cluster.logLines('enclave')).filter((l) => l.event === 'enclave.listening').at(1),
      30_000,
    );
    const kidAfter = listening.kid;
    const listeningAt = Date.parse(String(listening.time));
    assert.notEqual(kidAfter, kidBefore, 'a restarted enclave has a new key');
    const after = await cluster.agreed(
      'the peers agree on a certificate signed by the new key',
      60_000,
      (a) =>
        a.epoch > before.epoch &&
        [...a.statuses.values()].every((s) => decodeJws(s.leader!.certificate!).header.kid === kidAfter),
    );
    // A certificate verifies only against an attested key: each peer attested the new one.
    const attestations = (await cluster.enclaveRequests()).filter(
      (r) => r.path === '/v1/attestation' && r.t >= restartedAt && r.status === 200,
    );
    assert.ok(
      attestations.length >= cluster.live().length,
      `${attestations.length} attestations after the restart`,
    );
    for (const name of cluster.live()) {
      await cluster.logLinesUntil(
        name,
        'the last enclave.attested names the new key',
        (lines) => lines.filter((l) => l.event === 'enclave.attested').at(-1)?.kid === kidAfter,
      );
    }
    // Epochs only grow: in every peer's log (across its restarts), accepted epochs never go back.
    const acceptedEpochs = (lines: Record<string, unknown>[]) =>
      lines.filter((l) => l.event === 'certificate.accepted').map((l) => Number(l.epoch));
    for (const name of cluster.live()) {
      const epochs = acceptedEpochs(
        await cluster.logLinesUntil(
          name,
          `accepts an epoch above ${before.epoch}`,
          (lines) => acceptedEpochs(lines).at(-1)! > before.epoch,
        ),
      );
      assert.ok(
        epochs.every((e, k) => k === 0 || e >= epochs[k - 1]!),
        `${name} accepted epochs ${epochs.join(',')}`,
      );
    }
    await checkInvariants();
    console.log(
      `# enclave restarted: kid ${String(kidBefore).slice(0, 8)} -> ${String(kidAfter).slice(0, 8)}; epoch ${before.epoch} -> ${after.epoch} (${after.leader}), agreed ${Date.now() - restartedAt} ms after the restart command, ${Date.now() - listeningAt} ms after it listened again`,
    );
  });
});
