// Reference point for failover (DESIGN.md §7): etcd 3.4's election API with a
// lease TTL equal to our lease. Candidates campaign on one election; the
// leader is SIGKILLed; we time kill -> next candidate elected. Needs the
// `etcd` binary (Debian: apt-get install etcd-server). Everything runs on
// 127.0.0.1 and is stopped at the end. With --compare MODE the same run also
// measures our failover (the election suite, MODE docker or process) and
// reports the ratio ours/etcd (DESIGN.md §7: <= 1).
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { freeTcpPort } from '../../src/local/local-cluster.ts';
import { summary } from '../support/stats.ts';
import { ELECTION_FLAGS, type ElectionBenchResult, electionOptions, measureElection } from './election.ts';

const HELP = `usage: npm run bench -- etcd-failover [--samples 10] [--candidates 3] [--ttl-ms 2000] [--json]
                                        [--compare docker|process [--peers 5] [--kills 20] [--image TAG]]
Time from SIGKILL of the etcd election leader to the next candidate's win.
--compare: in the same run, our failover after SIGKILL of the leader (lease = --ttl-ms),
and the ratios ours/etcd of p50 and p99 (target <= 1).`;

async function waitHealthy(endpoint: string, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    try {
      const response = await fetch(`${endpoint}/health`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`etcd at ${endpoint} not healthy within ${timeoutMs} ms`);
}

interface Candidate {
  name: string;
  child: ChildProcess;
  elected: Promise<number>;
}

function startCandidate(endpoint: string, election: string, name: string, ttlS: number): Candidate {
  const script = new URL('../support/etcd-candidate.ts', import.meta.url).pathname;
  const child = spawn(process.execPath, [script, endpoint, election, name, String(ttlS)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const elected = new Promise<number>((resolve) => {
    let buffer = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      buffer += chunk;
      const line = buffer.split('\n').find((l) => l.includes('"elected"'));
      if (line) resolve((JSON.parse(line) as { t: number }).t);
    });
  });
  return { name, child, elected };
}

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      samples: { type: 'string', default: '10' },
      candidates: { type: 'string', default: '3' },
      'ttl-ms': { type: 'string', default: '2000' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
      compare: { type: 'string' },
      peers: ELECTION_FLAGS.peers,
      kills: { type: 'string', default: '20' },
      'steady-s': ELECTION_FLAGS['steady-s'],
      image: ELECTION_FLAGS.image,
    },
  });
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  const samples = Number(values.samples);
  const candidates = Number(values.candidates);
  const ttlMs = Number(values['ttl-ms']);
  if (!Number.isInteger(samples) || samples < 1 || !Number.isInteger(candidates) || candidates < 2) {
    throw new Error('--samples must be >= 1 and --candidates >= 2');
  }
  if (ttlMs % 1000 !== 0) throw new Error('--ttl-ms must be whole seconds: etcd lease TTLs are in seconds');
  const ours =
    values.compare === undefined
      ? undefined
      : electionOptions({ ...values, mode: values.compare, 'lease-ms': String(ttlMs) });

  const dataDir = mkdtempSync(join(tmpdir(), 'enclave-elect-etcd-'));
  const [clientPort, peerPort] = [await freeTcpPort(), await freeTcpPort()];
  const endpoint = `http://127.0.0.1:${clientPort}`;
  const etcd = spawn(
    'etcd',
    [
      '--data-dir',
      dataDir,
      '--listen-client-urls',
      endpoint,
      '--advertise-client-urls',
      endpoint,
      '--listen-peer-urls',
      `http://127.0.0.1:${peerPort}`,
      '--initial-advertise-peer-urls',
      `http://127.0.0.1:${peerPort}`,
      '--initial-cluster',
      `default=http://127.0.0.1:${peerPort}`,
    ],
    { stdio: 'ignore' },
  );
  const etcdFailed = new Promise<never>((_, reject) =>
    etcd.once('error', (error) =>
      reject(new Error(`cannot start etcd (${error.message}); install it: apt-get install etcd-server`)),
    ),
  );
  const all: Candidate[] = [];
  const failovers: number[] = [];
  try {
    await Promise.race([waitHealthy(endpoint, 15_000), etcdFailed]);
    for (let i = 0; i < samples; i++) {
      const election = `bench-${i}`;
      const group = Array.from({ length: candidates }, (_, k) =>
        startCandidate(endpoint, election, `c${k}`, ttlMs / 1000),
      );
      all.push(...group);
      const first = await Promise.race(group.map((c, k) => c.elected.then(() => k)));
      // Let every candidate campaign and keep its lease alive for a while.
      await new Promise((r) => setTimeout(r, ttlMs));
      const killedAt = Date.now();
      group[first]!.child.kill('SIGKILL');
      const next = await Promise.race(group.filter((_, k) => k !== first).map((c) => c.elected));
      failovers.push(next - killedAt);
      for (const c of group) c.child.kill('SIGKILL');
      process.stderr.write(`sample ${i + 1}/${samples}: ${next - killedAt} ms\n`);
    }
  } finally {
    for (const c of all) c.child.kill('SIGKILL');
    etcd.kill('SIGTERM');
    await new Promise((r) => etcd.once('exit', r).once('error', r));
    rmSync(dataDir, { recursive: true, force: true });
  }
  const result = { suite: 'etcd-failover', etcd: '3.4', ttlMs, candidates, failover: summary(failovers) };
  let election: ElectionBenchResult | undefined;
  if (ours) election = await measureElection({ ...ours, progress: (s) => process.stderr.write(`${s}\n`) });
  const ratio = election && {
    p50: ratioOf(election.failover.p50Ms, result.failover.p50Ms),
    p99: ratioOf(election.failover.p99Ms, result.failover.p99Ms),
  };
  if (values.json) {
    process.stdout.write(
      `${JSON.stringify({ ...result, samplesMs: failovers, ...(election ? { election, ratio } : {}) })}\n`,
    );
    return;
  }
  process.stdout.write(
    `etcd election failover (lease TTL ${ttlMs} ms, ${candidates} candidates)\n` +
      `  p50 ${result.failover.p50Ms} ms   p99 ${result.failover.p99Ms} ms   samples ${failovers.length}\n`,
  );
  if (election && ratio) {
    const f = election.failover;
    process.stdout.write(
      `enclave-elect failover (${election.mode} mode, ${election.peers} peers, lease ${election.leaseMs} ms)\n` +
        `  p50 ${f.p50Ms} ms   p99 ${f.p99Ms} ms   samples ${f.samples}   (target p50 <= 2500, p99 <= 3500)\n` +
        `  graceful hand-over ${election.gracefulMs} ms   enclave requests/s ${election.enclaveRequestsPerSec}\n` +
        `ratio ours/etcd: p50 ${ratio.p50}, p99 ${ratio.p99}   (target <= 1)\n`,
    );
  }
}

/** ours/etcd to two decimals; null without both. */
const ratioOf = (ours: number | null, etcd: number | null): number | null =>
  ours === null || etcd === null || etcd === 0 ? null : Math.round((ours / etcd) * 100) / 100;
