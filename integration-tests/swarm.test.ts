// deploy/swarm/stack.yml across a real swarm of four engines (Docker-in-Docker
// nodes on this host): node1 manages and holds the enclave, nodes 2-4 run the
// five peers. Then whole-node faults: the leader's node is killed (power cut),
// a node is cut off with iptables and healed, a node is drained. DESIGN.md §5's
// invariants are checked on every peer's logged events at the end. Figures
// (convergence, failover, spread, verdicts, wall time) are printed as
// diagnostics. Every node container, volume and network is removed afterwards;
// the host's engine never joins a swarm.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FaultRecord, HistoryEvent } from '../src/chaos/history.ts';
import { equivocations, overlappingLeaders } from '../src/chaos/invariants.ts';
import { ensureHelperImage } from '../src/orchestrator/fault-helper.ts';
import { docker } from './support/docker.ts';
import { buildProjectImage, PROJECT_ROOT, TEST_IMAGE } from './support/image.ts';
import { buildNodeImage, run, runOk, type SwarmNode, SwarmNodes } from './support/swarm-nodes.ts';
import { nodeHostname, type PeerReading, STACK, STACK_IMAGE_TAG, SwarmStack } from './support/swarm-stack.ts';

const PEERS = 5;
const LEASE_MS = 2000;
/** DESIGN.md §5, invariant 3: agreement within lease + 2 s of the last fault's heal. */
const AGREEMENT_MS = LEASE_MS + 2000;
/** How long a cut-off node stays cut: several leases, yet short of the swarm's ~13 s node-down verdict. */
const CUT_MS = 6000;
/** The chaos step's schedule: fixed, so a failure replays. */
const CHAOS_SEED = '42';

interface Agreement {
  leader: string;
  epoch: number;
  peers: string[];
}

/** The leader every answering peer names, verified, with the named peer acting; null if they differ. */
function agreementOf(readings: PeerReading[], expectedPeers: number): Agreement | null {
  const answered = readings.filter((r) => r.status);
  if (answered.length < expectedPeers) return null;
  const first = answered[0]?.status?.leader;
  if (!first) return null;
  for (const { status } of answered) {
    const leader = status?.leader;
    if (!leader || leader.name !== first.name || leader.epoch !== first.epoch || leader.verified === false) {
      return null;
    }
  }
  const acting = answered.filter((r) => r.status?.isLeader).map((r) => r.status?.name);
  if (acting.length !== 1 || acting[0] !== first.name) return null;
  return { leader: first.name, epoch: first.epoch, peers: answered.map((r) => r.status?.name ?? r.ip) };
}

async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | null>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== null) return value;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

function mergeEvents(into: Map<string, HistoryEvent>, events: HistoryEvent[]): void {
  for (const e of events) into.set(`${e.t}|${e.peer}|${e.event}|${e.epoch ?? ''}`, e);
}

// A guard against a hung run, not the issue's 5-minute figure (reported per run in the diagnostics):
// on a fresh CI machine the chaos --swarm step's node jobs took the suite to 344 s, and 655 s in a later run.
describe('the swarm stack across four engines', { timeout: 900_000 }, () => {
  const startedAt = Date.now();
  const swarm = new SwarmNodes();
  const stack = new SwarmStack(swarm);
  const events = new Map<string, HistoryEvent>();
  const faults: FaultRecord[] = [];
  const up = new Set<SwarmNode>();
  let deployedAt = 0;

  let hostSwarmState: string | undefined;

  before(async () => {
    hostSwarmState = (await docker.info()).Swarm?.LocalNodeState;
    const [, , helperImage] = await Promise.all([
      buildNodeImage(),
      buildProjectImage(),
      ensureHelperImage(docker, (line) => process.stderr.write(`${line}\n`)),
    ]);
    const imageId = (await docker.getImage(TEST_IMAGE).inspect()).Id;
    await swarm.start(4);
    for (const node of swarm.nodes) up.add(node);
    // The fault helper goes where the tasks are: `partition --swarm` runs it on their nodes.
    const helperId = (await docker.getImage(helperImage).inspect()).Id;
    await Promise.all([swarm.loadImage(imageId, STACK_IMAGE_TAG), swarm.loadImage(helperId, helperImage)]);
    deployedAt = Date.now();
    await stack.deploy();
  });

  after(async () => {
    await swarm.dispose();
    const left = await docker.listContainers({
      all: true,
      filters: JSON.stringify({ label: [`io.enclave-elect.test=${swarm.runId}`] }),
    });
    assert.equal(left.length, 0, 'no node container is left behind');
    const info = await docker.info();
    assert.equal(info.Swarm?.LocalNodeState, hostSwarmState, "the host's own swarm state is unchanged");
  });

  /** The peer nodes that are up, by hostname. */
  const upPeerNodes = () => [...up].filter((n) => n !== swarm.manager);
  const nodeNamed = (hostname: string) => swarm.nodes.find((n) => nodeHostname(n) === hostname)!;
  const agreed = (expected: number) => async () => agreementOf(await stack.readPeers(), expected);
  const snapshot = async () => mergeEvents(events, await stack.events([...up]));

  it('spreads the peers over the peer nodes and agrees on one verified leader', async (t) => {
    const agreement = await waitFor('five peers to agree', 90_000, agreed(PEERS));
    const agreedAt = Date.now();
    await snapshot();
    // From the peers' own logs: the last process to start, and the last peer to accept the agreed certificate.
    const logged = [...events.values()];
    const lastStart = Math.max(...logged.filter((e) => e.event === 'peer.started').map((e) => e.t));
    const lastAccept = Math.max(
      ...agreement.peers.map((peer) =>
        Math.min(
          ...logged
            .filter(
              (e) => e.peer === peer && e.event === 'certificate.accepted' && e.epoch === agreement.epoch,
            )
            .map((e) => e.t),
        ),
      ),
    );
    t.diagnostic(
      `convergence: ${agreedAt - deployedAt} ms from stack deploy to ${PEERS}/${PEERS} agreeing (status poll); ` +
        `${lastAccept - lastStart} ms from the last peer's start to the last acceptance (logs)`,
    );
    const byNode = await stack.runningByNode();
    const spread = Object.fromEntries([...byNode].map(([node, tasks]) => [node, tasks.length]));
    t.diagnostic(`spread: ${JSON.stringify(spread)}; leader ${agreement.leader}, epoch ${agreement.epoch}`);
    assert.equal(byNode.has(nodeHostname(swarm.manager)), false, 'no peer on the enclave node');
    assert.equal(byNode.size, 3, 'peers on each of the three peer nodes');
    assert.equal([...byNode.values()].flat().length, PEERS);
  });

  it('cluster status --swarm reads every peer across the nodes through the manager alone', async () => {
    await waitFor('agreement', 30_000, agreed(PEERS));
    const out = await runOk(
      'node',
      [`${PROJECT_ROOT}src/cli/main.ts`, 'cluster', 'status', '--swarm', STACK, '--json'],
      undefined,
      {
        DOCKER_HOST: swarm.managerEngine,
      },
    );
    const report = JSON.parse(out) as { agreed: boolean; peers: { container: string; name: string }[] };
    assert.equal(report.agreed, true);
    assert.equal(report.peers.length, PEERS);
    const nodes = new Set(report.peers.map((p) => p.container.split('@')[1]));
    assert.equal(nodes.size, 3, `peers read on three nodes: ${[...nodes].join(', ')}`);
  });

  it('cluster partition isolate leader --swarm cuts the leader off in the kernel; heal --swarm restores it and leaves nothing', async (t) => {
    const before = await waitFor('agreement before the partition', 30_000, agreed(PEERS));
    await snapshot();
    const cli = (...args: string[]) =>
      runOk(
        'node',
        [`${PROJECT_ROOT}src/cli/main.ts`, 'cluster', ...args, '--swarm', STACK, '--json'],
        undefined,
        {
          DOCKER_HOST: swarm.managerEngine,
        },
      );
    const cutAt = Date.now();
    const partition = JSON.parse(await cli('partition', 'isolate', 'leader')) as {
      sides: { side: string; peers: string[]; enclave: boolean }[];
      cuts: { peer: string; deafTo: string[] }[];
      proof: { checked: number; unexpected: unknown[] };
    };
    const appliedMs = Date.now() - cutAt;
    assert.deepEqual(partition.sides[0], { side: 'A', peers: [before.leader], enclave: false });
    assert.equal(partition.sides[1]?.peers.length, PEERS - 1);
    assert.equal(partition.proof.unexpected.length, 0);
    // Five peers and the enclave probe each other: 6 x 5 pairs.
    assert.equal(partition.proof.checked, (PEERS + 1) * PEERS);
    const isolated = partition.cuts.find((c) => c.peer === before.leader);
    assert.deepEqual(
      isolated?.deafTo.sort(),
      [...before.peers.filter((p) => p !== before.leader), 'enclave'].sort(),
    );
    // The majority, with the enclave, elects another leader while the old one is cut off.
    const during = await waitFor('the majority to elect a new leader', 30_000, async () => {
      const readings = (await stack.readPeers()).filter((r) => r.status?.name !== before.leader);
      const agreement = agreementOf(readings, PEERS - 1);
      return agreement && agreement.epoch > before.epoch ? agreement : null;
    });
    const electedMs = Date.now() - cutAt;
    const healAt = Date.now();
    const heal = JSON.parse(await cli('heal')) as {
      removed: string[];
      proof: { checked: number; unexpected: unknown[] };
    };
    const healMs = Date.now() - healAt;
    faults.push({
      kind: 'swarm-partition',
      target: before.leader,
      start: cutAt,
      heal: healAt,
      peers: [before.leader],
    });
    assert.ok(heal.removed.length >= 1, `helpers removed: ${heal.removed.join(', ')}`);
    assert.equal(heal.proof.unexpected.length, 0);
    const after = await waitFor('every peer to agree after the heal', 30_000, agreed(PEERS));
    const agreedMs = Date.now() - healAt - healMs;
    const leftover = await Promise.all(
      [...up].map((node) =>
        swarm.exec(node, ['docker', 'ps', '-aq', '--filter', 'label=io.enclave-elect.swarm-stack=ee']),
      ),
    );
    t.diagnostic(
      `swarm partition of ${before.leader}: applied and proved in ${appliedMs} ms (${partition.proof.checked} probes); ` +
        `${during.leader} elected for epoch ${during.epoch} ${electedMs} ms after the cut; heal proved in ${healMs} ms; ` +
        `all ${PEERS} agree on ${after.leader} (epoch ${after.epoch}) ${agreedMs} ms after it returned`,
    );
    assert.notEqual(during.leader, before.leader);
    assert.deepEqual(
      leftover.map((out) => out.trim()).filter(Boolean),
      [],
      'no helper container left on any node',
    );
    assert.ok(agreedMs <= AGREEMENT_MS, `agreement ${agreedMs} ms after the heal (<= ${AGREEMENT_MS})`);
  });

  it("fails over when the leader's node is killed, detected by gossip, not by the swarm", async (t) => {
    const before = await waitFor('agreement before the kill', 30_000, agreed(PEERS));
    const tasks = await stack.tasks();
    const leaderTask = tasks.find((task) => task.name === before.leader);
    assert.ok(leaderTask, `the leader ${before.leader} is a task of the peer service`);
    const node = nodeNamed(leaderTask.node);
    const lost = tasks.filter((task) => task.node === leaderTask.node && task.desired === 'Running');
    const survivors = before.peers.length - lost.length;
    await snapshot();
    const killedAt = Date.now();
    await swarm.kill(node);
    up.delete(node);
    for (const task of lost) {
      faults.push({
        kind: 'node-kill',
        target: task.name,
        start: killedAt,
        heal: null,
        endsProcess: true,
        processEndedAt: killedAt,
      });
    }
    const after = await waitFor('the survivors to agree on a new leader', 30_000, async () => {
      const readings = (await stack.readPeers()).filter(
        (r) => !lost.some((task) => task.name === r.status?.name),
      );
      const agreement = agreementOf(readings, survivors);
      return agreement && agreement.epoch > before.epoch ? agreement : null;
    });
    const observedMs = Date.now() - killedAt;
    // The swarm's own node-down verdict (about 13 s here) was not on the critical path.
    const swarmView = (
      await swarm.exec(swarm.manager, [
        'docker',
        'node',
        'inspect',
        '--format',
        '{{.Status.State}}',
        nodeHostname(node),
      ])
    ).trim();
    await snapshot();
    // From the survivors' own logs: when the last of them accepted the new certificate.
    const accepted = [...events.values()].filter(
      (e) => e.event === 'certificate.accepted' && e.epoch === after.epoch && e.t >= killedAt,
    );
    const lastAcceptMs =
      Math.max(...after.peers.map((p) => Math.min(...accepted.filter((e) => e.peer === p).map((e) => e.t)))) -
      killedAt;
    // Epochs between the old and the new leader: the enclave elects among fresh candidacies, and a peer
    // that died with the leader's node still has one, so it may be elected and its lease run out unused.
    const between = [...events.values()].filter(
      (e) =>
        e.event === 'certificate.accepted' &&
        e.t >= killedAt &&
        e.epoch! > before.epoch &&
        e.epoch! < after.epoch,
    );
    const wasted = new Map(between.map((e) => [e.epoch!, e.leader ?? '?']));
    t.diagnostic(
      `failover: ${lastAcceptMs} ms (last survivor's certificate.accepted), ${observedMs} ms (status poll); ` +
        `${node.name} held ${lost.length} peer(s) with the leader; new leader ${after.leader}, epoch ${after.epoch}; ` +
        `epochs granted in between: ${JSON.stringify(Object.fromEntries(wasted))}; the swarm still saw the node ${swarmView}`,
    );
    assert.notEqual(after.leader, before.leader);
    assert.equal(swarmView, 'ready', 'the survivors agreed before the swarm noticed the node was gone');
    for (const [epoch, leader] of wasted) {
      assert.ok(
        lost.some((task) => task.name === leader),
        `epoch ${epoch} went to ${leader}, which did not die with the node`,
      );
    }
    // Lease + 2 s, plus one lease for each epoch granted to a peer that died with the node.
    const boundMs = AGREEMENT_MS + wasted.size * LEASE_MS;
    assert.ok(
      lastAcceptMs <= boundMs,
      `survivors agreed ${lastAcceptMs} ms after the kill (<= ${boundMs}, ${wasted.size} epoch(s) to a dead peer)`,
    );
  });

  it("keeps the invariants when a node is cut off and healed, and the node's peers rejoin", async (t) => {
    // The killed node's tasks are rescheduled once the swarm calls it down.
    await waitFor('five agreeing peers on the surviving nodes', 90_000, agreed(PEERS));
    const byNode = await stack.runningByNode();
    const leader = (await waitFor('agreement', 10_000, agreed(PEERS))).leader;
    // Cut the node with the leader if it has one, else the busiest.
    const target = upPeerNodes().sort(
      (a, b) =>
        Number((byNode.get(nodeHostname(b)) ?? []).some((task) => task.name === leader)) -
          Number((byNode.get(nodeHostname(a)) ?? []).some((task) => task.name === leader)) ||
        (byNode.get(nodeHostname(b))?.length ?? 0) - (byNode.get(nodeHostname(a))?.length ?? 0),
    )[0]!;
    const cut = (byNode.get(nodeHostname(target)) ?? []).map((task) => task.name);
    await snapshot();
    const cutAt = Date.now();
    await swarm.cutOff(target);
    await new Promise((r) => setTimeout(r, CUT_MS));
    // From the moment the heal starts: traffic may flow before the command returns.
    const healedAt = Date.now();
    await swarm.heal(target);
    faults.push({ kind: 'node-partition', target: target.name, start: cutAt, heal: healedAt, peers: cut });
    const agreement = await waitFor('every peer to agree after the heal', 30_000, agreed(PEERS));
    const agreedMs = Date.now() - healedAt;
    const rejoined = await waitFor('the cut-off peers to be alive members everywhere', 30_000, async () => {
      const readings = await stack.readPeers();
      const everywhere = readings.every((r) =>
        cut.every((name) => r.status?.members?.some((m) => m.name === name && m.state === 'alive')),
      );
      return everywhere && readings.length === PEERS ? Date.now() - healedAt : null;
    });
    t.diagnostic(
      `partition of ${target.name} (${cut.length} peer(s), ${CUT_MS} ms): agreement ${agreedMs} ms after heal ` +
        `on ${agreement.leader}, epoch ${agreement.epoch}; its peers alive everywhere after ${rejoined} ms`,
    );
    assert.ok(cut.length > 0);
    assert.ok(agreedMs <= AGREEMENT_MS, `agreement ${agreedMs} ms after the heal (<= ${AGREEMENT_MS})`);
  });

  it('reschedules the peers of a drained node, which rejoin under new addresses', async (t) => {
    await waitFor('agreement before the drain', 30_000, agreed(PEERS));
    const byNode = await stack.runningByNode();
    const target = upPeerNodes().sort(
      (a, b) => (byNode.get(nodeHostname(b))?.length ?? 0) - (byNode.get(nodeHostname(a))?.length ?? 0),
    )[0]!;
    const drained = (byNode.get(nodeHostname(target)) ?? []).map((task) => task.name);
    const readingsBefore = await stack.readPeers();
    const namesBefore = new Set(readingsBefore.map((r) => r.status?.name));
    const oldAddresses = new Set(
      readingsBefore.filter((r) => drained.includes(r.status?.name ?? '')).map((r) => r.ip),
    );
    await snapshot();
    const drainAt = Date.now();
    await swarm.exec(swarm.manager, [
      'docker',
      'node',
      'update',
      '--availability',
      'drain',
      nodeHostname(target),
    ]);
    const replaced = await waitFor('replacement peers to join and agree', 90_000, async () => {
      const readings = await stack.readPeers();
      const agreement = agreementOf(readings, PEERS);
      if (!agreement || readings.some((r) => drained.includes(r.status?.name ?? ''))) return null;
      const fresh = readings.filter((r) => !namesBefore.has(r.status?.name));
      const seenByAll = readings.every((r) =>
        fresh.every((f) => r.status?.members?.some((m) => m.name === f.status?.name && m.state === 'alive')),
      );
      return seenByAll ? fresh : null;
    });
    for (const name of drained) {
      faults.push({
        kind: 'node-drain',
        target: name,
        start: drainAt,
        heal: null,
        endsProcess: true,
        processEndedAt: Date.now(),
      });
    }
    const byNodeAfter = await stack.runningByNode();
    t.diagnostic(
      `drain of ${target.name}: ${drained.length} peer(s) replaced by ${replaced.map((r) => `${r.status?.name}@${r.ip}`).join(', ')} ` +
        `in ${Date.now() - drainAt} ms`,
    );
    assert.equal(byNodeAfter.has(nodeHostname(target)), false, 'no peer runs on the drained node');
    assert.equal(replaced.length, drained.length, 'one new member per drained peer');
    for (const r of replaced) assert.equal(oldAddresses.has(r.ip), false, `${r.ip} is a new address`);
  });

  it('cluster pause leader --swarm --for 5s: the others elect a leader, and the paused one yields on waking', async (t) => {
    const before = await waitFor('agreement before the pause', 30_000, agreed(PEERS));
    await snapshot();
    const out = await runOk(
      'node',
      [
        `${PROJECT_ROOT}src/cli/main.ts`,
        'cluster',
        'pause',
        'leader',
        '--swarm',
        STACK,
        '--for',
        '5s',
        '--json',
      ],
      undefined,
      { DOCKER_HOST: swarm.managerEngine },
    );
    const result = JSON.parse(out) as { name: string; task: string };
    assert.equal(result.name, before.leader);
    const after = await waitFor(
      'every peer, the woken one too, to agree on a newer epoch',
      30_000,
      async () => {
        const agreement = agreementOf(await stack.readPeers(), PEERS);
        return agreement && agreement.epoch > before.epoch ? agreement : null;
      },
    );
    t.diagnostic(
      `pause of ${result.name} (${result.task}) for 5 s: ${after.leader} leads epoch ${after.epoch}`,
    );
    assert.notEqual(after.leader, before.leader, 'a peer paused past its lease does not lead again at once');
  });

  it('cluster kill leader --swarm kills the leader on its node, and the others fail over', async (t) => {
    const before = await waitFor('agreement before the kill', 30_000, agreed(PEERS));
    await snapshot();
    const out = await runOk(
      'node',
      [`${PROJECT_ROOT}src/cli/main.ts`, 'cluster', 'kill', 'leader', '--swarm', STACK, '--json'],
      undefined,
      { DOCKER_HOST: swarm.managerEngine },
    );
    const result = JSON.parse(out) as { name: string; task: string; at: string };
    const killedAt = Date.parse(result.at);
    faults.push({
      kind: 'swarm-kill',
      target: result.name,
      start: killedAt,
      heal: null,
      endsProcess: true,
      processEndedAt: killedAt,
    });
    assert.equal(result.name, before.leader);
    const after = await waitFor('a new leader', 30_000, async () => {
      const readings = (await stack.readPeers()).filter((r) => r.status?.name !== before.leader);
      const agreement = agreementOf(readings, PEERS - 1);
      return agreement && agreement.epoch > before.epoch ? agreement : null;
    });
    t.diagnostic(
      `cluster kill leader --swarm: ${result.name} (${result.task}) killed; ${after.leader} leads epoch ${after.epoch} ` +
        `${Date.now() - killedAt} ms later`,
    );
  });

  it('cluster chaos --swarm: 40 s of seeded faults (a partition, then a kill) keeps every invariant', async (t) => {
    await waitFor('agreement before the chaos run', 60_000, agreed(PEERS));
    await snapshot();
    const chaosAt = Date.now();
    // Exit 1 (an invariant failed) still prints the report: read it, so the verdicts say what failed.
    const {
      code,
      stdout: out,
      stderr,
    } = await run(
      'node',
      [
        `${PROJECT_ROOT}src/cli/main.ts`,
        'cluster',
        'chaos',
        '--swarm',
        STACK,
        '--duration',
        '40s',
        '--interval',
        '4s',
        '--seed',
        CHAOS_SEED,
        '--json',
      ],
      undefined,
      { DOCKER_HOST: swarm.managerEngine },
    );
    assert.ok(
      code === 0 || (code === 1 && out.startsWith('{')),
      `chaos exited ${code}: ${stderr.slice(-2000)}`,
    );
    const report = JSON.parse(out) as {
      ok: boolean;
      verdicts: { name: string; ok: boolean; summary: string }[];
      summary: { faultsByKind: Record<string, number>; skipped: number; failovers: unknown };
      history: { faults: FaultRecord[] };
    };
    // The run's faults belong to the whole test's history too (a killed leader's interval ends at its kill).
    faults.push(...report.history.faults);
    // Where the run's time went: its progress lines and notes (at most one line per 5 s off a terminal).
    for (const line of stderr.trim().split('\n').slice(-60)) t.diagnostic(`  | ${line}`);
    t.diagnostic(
      `chaos --swarm (seed ${CHAOS_SEED}, ${Date.now() - chaosAt} ms): faults ${JSON.stringify(report.summary.faultsByKind)}, ` +
        `${report.summary.skipped} skipped; failovers ${JSON.stringify(report.summary.failovers)}`,
    );
    for (const v of report.verdicts) t.diagnostic(`  ${v.name}: ${v.ok ? 'ok' : 'FAILED'} (${v.summary})`);
    // Seed 42 draws a partition first, then a kill, a pause...; how many fit in 40 s depends on how fast
    // the nodes run their jobs (a loaded 2-core host fitted only the partition). The kill through the
    // manager has its own step above; here the run must inject and heal its first fault, skip none,
    // and hold every invariant.
    const kinds = report.history.faults.map((f) => f.kind);
    assert.equal(
      kinds[0],
      'partition',
      `the first fault is seed 42's partition (${kinds.join(', ') || 'none'})`,
    );
    assert.ok(
      report.history.faults.every((f) => f.heal !== null),
      'every injected fault healed',
    );
    assert.equal(report.summary.skipped, 0, 'no fault skipped');
    for (const v of report.verdicts) assert.ok(v.ok, `${v.name}: ${v.summary}`);
    assert.equal(report.ok, true);
  });

  it('holds DESIGN.md §5 invariants across the node faults', async (t) => {
    await snapshot();
    const history = {
      leaseMs: LEASE_MS,
      startedAt: deployedAt,
      endedAt: Date.now(),
      events: [...events.values()],
      faults,
      observations: [],
    };
    const verdicts = [equivocations(history), overlappingLeaders(history)];
    for (const v of verdicts) t.diagnostic(`${v.name}: ${v.ok ? 'ok' : 'FAILED'} (${v.summary})`);
    t.diagnostic(`wall time so far: ${Date.now() - startedAt} ms`);
    for (const v of verdicts) assert.ok(v.ok, `${v.name}: ${v.summary} ${JSON.stringify(v.offending)}`);
  });
});
