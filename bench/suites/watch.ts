// Watch latency in local mode: how long after a peer adopts a new leader
// certificate (its `certificate.accepted` log line) a subscriber of that peer's
// /v1/leader/watch sees the `elected` event. Rounds of: the leader is paused
// (SIGSTOP) until every other peer's watcher has seen a new epoch, then resumed
// until its own watcher has. Target: p99 <= 100 ms. Table, or --json.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { LocalCluster, type LocalProcess, peerStatus } from '../../src/local/local-cluster.ts';
import { openSse, type SseStream } from '../support/sse-client.ts';
import { percentile } from '../support/stats.ts';
import { waitUntil } from '../support/waiting.ts';

const HELP = `usage: npm run bench -- watch [--json] [--peers 3] [--rounds 10] [--verbose: each sample]
Watch latency: peer adopts a certificate -> its /v1/leader/watch subscriber sees it (local mode).
Each round pauses the leader (SIGSTOP) until the others fail over, then resumes it.`;
const TARGET_P99_MS = 100;

/** Adoption times by epoch, from one peer's log. */
function acceptedAt(log: string): Map<number, number> {
  const times = new Map<number, number>();
  for (const line of readFileSync(log, 'utf8').split('\n')) {
    if (!line.includes('"certificate.accepted"')) continue;
    const entry = JSON.parse(line) as { time: string; epoch: number };
    if (!times.has(entry.epoch)) times.set(entry.epoch, Date.parse(entry.time));
  }
  return times;
}

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      json: { type: 'boolean', default: false },
      peers: { type: 'string', default: '3' },
      rounds: { type: 'string', default: '10' },
      verbose: { type: 'boolean', default: false },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  const peers = Number(values.peers);
  const rounds = Number(values.rounds);
  if (!(peers >= 2 && peers <= 20) || !(rounds >= 1 && rounds <= 200)) {
    throw new Error('--peers must be 2..20 and --rounds 1..200');
  }
  const progress = (text: string) => process.stderr.write(`watch bench: ${text}\n`);
  const cluster = new LocalCluster({ peers, policy: 'vrf', leaseMs: 2000, env: { LOG_LEVEL: 'info' } });
  const streams = new Map<string, SseStream>();
  const watchPeer = async (p: LocalProcess) => {
    await waitUntil(
      async () => (await fetch(`http://127.0.0.1:${p.port}/healthz`).catch(() => null))?.ok === true,
      15_000,
      50,
    );
    streams.set(p.name, await openSse(`http://127.0.0.1:${p.port}/v1/leader/watch`));
  };
  const leaderOf = async (): Promise<{ name: string; epoch: number } | undefined> => {
    for (const p of cluster.peers().filter((x) => !x.exited)) {
      const status = await peerStatus(p.port, 1000).catch(() => null);
      if (status?.isLeader && status.leader) return { name: p.name, epoch: status.leader.epoch };
    }
    return undefined;
  };
  try {
    await cluster.start(progress);
    for (const p of cluster.peers()) await watchPeer(p);
    const sawEpochAbove = (p: LocalProcess, epoch: number) =>
      streams.get(p.name)?.events.some((e) => e.event === 'elected' && Number(e.data.epoch) > epoch) ?? false;
    /** Per peer, the epochs it adopted right after being resumed (its own loop catching up). */
    const afterResume = new Map<string, Set<number>>();
    for (let round = 0; round < rounds; round++) {
      let leader: { name: string; epoch: number } | undefined;
      await waitUntil(
        async () => {
          leader = await leaderOf();
          return leader !== undefined;
        },
        20_000,
        50,
      );
      if (!leader) throw new Error('no leader within 20 s');
      const old = leader;
      progress(`round ${round + 1}/${rounds}: ${old.name} (epoch ${old.epoch}) paused`);
      // SIGSTOP, not a stop: the peers started first are every peer's seeds and must stay.
      const paused = cluster.peers().find((p) => p.name === old.name)!;
      paused.child.kill('SIGSTOP');
      const others = cluster.peers().filter((p) => p !== paused && !p.exited);
      const failedOver = await waitUntil(
        async () => others.every((p) => sawEpochAbove(p, old.epoch)),
        20_000,
        25,
      );
      paused.child.kill('SIGCONT');
      if (failedOver === undefined) progress('  not every other peer saw a new epoch within 20 s');
      await waitUntil(async () => sawEpochAbove(paused, old.epoch), 10_000, 25);
      const caughtUp = streams.get(paused.name)?.events.find((e) => Number(e.data.epoch) > old.epoch);
      if (caughtUp) {
        const epochs = afterResume.get(paused.name) ?? new Set<number>();
        afterResume.set(paused.name, epochs.add(Number(caughtUp.data.epoch)));
      }
    }
    const samples: number[] = [];
    const resumedSamples: number[] = [];
    for (const p of cluster.peers()) {
      const adopted = acceptedAt(p.log);
      const firstSeen = new Map<number, number>();
      for (const e of streams.get(p.name)?.events ?? []) {
        const epoch = Number(e.data.epoch);
        if (e.event === 'elected' && !firstSeen.has(epoch)) firstSeen.set(epoch, e.arrivedAt);
      }
      for (const [epoch, seenAt] of firstSeen) {
        const at = adopted.get(epoch);
        // Only changes the watcher was subscribed for (not the current state sent on connect).
        if (at === undefined || seenAt < at || seenAt - at >= 60_000) continue;
        (afterResume.get(p.name)?.has(epoch) ? resumedSamples : samples).push(seenAt - at);
        if (values.verbose) progress(`${p.name} epoch ${epoch}: ${seenAt - at} ms`);
      }
    }
    const result = {
      suite: 'watch',
      peers,
      rounds,
      samples: samples.length,
      p50Ms: percentile(samples, 50),
      p99Ms: percentile(samples, 99),
      maxMs: samples.length ? Math.max(...samples) : null,
      /** The paused leader, once resumed, adopting the new epoch: its loop has a backlog to clear. */
      resumed: {
        samples: resumedSamples.length,
        p50Ms: percentile(resumedSamples, 50),
        maxMs: resumedSamples.length ? Math.max(...resumedSamples) : null,
      },
      targetP99Ms: TARGET_P99_MS,
      met: samples.length > 0 && (percentile(samples, 99) ?? Infinity) <= TARGET_P99_MS,
    };
    if (values.json) process.stdout.write(`${JSON.stringify(result)}\n`);
    else {
      process.stdout.write(
        `watch bench: ${result.samples} adoptions seen by watchers over ${rounds} hand-overs, ${peers} peers (local mode)\n` +
          `adopted -> seen: p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms, max ${result.maxMs} ms; target p99 <= ${TARGET_P99_MS} ms: ${result.met ? 'met' : 'NOT met'}\n` +
          `the resumed leader catching up (apart): ${result.resumed.samples} samples, p50 ${result.resumed.p50Ms} ms, max ${result.resumed.maxMs} ms\n`,
      );
    }
  } finally {
    for (const s of streams.values()) s.close();
    await cluster.stop();
  }
}
