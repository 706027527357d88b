// Enclave service costs, measured in-process over real HTTP on 127.0.0.1:
//   elect (live lease)  the deduplicating path: a lease exists, the enclave answers it
//   elect (new epoch)   every request finds the lease over (1 ms leases): VRF proof,
//                       certificate signature, sealed state fsync'd, all under the lock
//   renew               the leader's renewals; c requests in flight, each signed for the
//                       newest seq it knows; one per seq is granted, the rest are refused
//                       409 after the signature check (counted apart)
//   verify              leader certificate verification, uncached vs cached by hash
// Product key sizes (2048-bit RSA). Prints a table, or one JSON document with --json.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CertificateVerifier } from '../../src/crypto/certificate-cache.ts';
import { verifyCertificate } from '../../src/crypto/leader-certificate.ts';
import type { MemberIdentity } from '../../src/crypto/member-digest.ts';
import { EnclaveClient } from '../../src/enclave/client/enclave-client.ts';
import { memberKeyOf, signedElectBody, signRequest } from '../../src/enclave/lease-signature.ts';
import { initPki, loadRootCertificate } from '../../src/enclave/pki.ts';
import { startEnclave } from '../../src/enclave/start-enclave.ts';
import { createLogger } from '../../src/log/logger.ts';
import { summary } from '../support/stats.ts';

const HELP = `usage: npm run bench -- enclave [--json] [--members 16]
Elect and renew latency (p50/p99) and requests/s at concurrency 1, 16, 64;
leader certificate verification cost uncached vs cached.`;
const CONCURRENCY = [1, 16, 64] as const;
const CLUSTER = 'bench';

interface Level {
  concurrency: number;
  p50Ms: number | null;
  p99Ms: number | null;
  requestsPerS: number;
  samples: number;
}

async function closedLoop(concurrency: number, total: number, call: () => Promise<void>): Promise<Level> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        next++;
        const t = performance.now();
        await call();
        latencies.push(performance.now() - t);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const s = summary(latencies);
  const round = (v: number | null) => (v === null ? null : Math.round(v * 100) / 100);
  return {
    concurrency,
    p50Ms: round(s.p50Ms),
    p99Ms: round(s.p99Ms),
    requestsPerS: Math.round(total / seconds),
    samples: total,
  };
}

function post(url: string, body: object): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      json: { type: 'boolean', default: false },
      members: { type: 'string', default: '16' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  const work = mkdtempSync(join(tmpdir(), 'enclave-elect-bench-'));
  const logger = createLogger({ level: 'silent', pretty: false });
  const pkiDir = join(work, 'pki');
  initPki(pkiDir);
  const root = loadRootCertificate(pkiDir);
  const peers = Array.from({ length: Number(values.members) }, (_, i) => {
    const { privateKey } = generateKeyPairSync('ed25519');
    return { name: `peer-${i}`, key: memberKeyOf(privateKey), privateKey };
  });
  const members: MemberIdentity[] = peers.map(({ name, key }) => ({ name, key }));
  const progress = (text: string) => process.stderr.write(`enclave bench: ${text}\n`);

  const result = {
    suite: 'enclave',
    keyBits: 2048,
    members: members.length,
    elect: { liveLease: [] as Level[], newEpoch: [] as Level[] },
    renew: [] as (Level & { granted: number; refusedStale: number })[],
    verify: { uncachedUs: 0, cachedUs: 0 },
  };

  // elect with a live lease (dedup path), and renew, on one long-lease enclave
  const live = await startEnclave({
    pkiDir,
    stateDir: join(work, 'state-live'),
    clusterId: CLUSTER,
    policy: 'vrf',
    leaseMs: 600_000,
    host: '127.0.0.1',
    port: 0,
    logger,
  });
  const client = new EnclaveClient({
    url: live.url,
    root,
    pinnedChecksum: live.service.checksum,
    clusterId: CLUSTER,
  });
  const [first] = peers;
  let lease = (await client.elect({ name: first!.name, signer: first!.privateKey })).claims;
  const leader = peers.find((p) => p.name === lease.leader.name)!;
  // Every elect is a fresh signed candidacy (a replayed one is refused), from the members in turn.
  let turn = 0;
  const electBody = () => {
    const peer = peers[turn++ % peers.length]!;
    const fields = { cluster_id: CLUSTER, known_epoch: 0, wait_ms: 0, name: peer.name };
    return signedElectBody(
      { ...fields, ts: Date.now(), nonce: randomBytes(16).toString('hex') },
      peer.privateKey,
    );
  };
  for (const c of CONCURRENCY) {
    progress(`elect (live lease), concurrency ${c}`);
    result.elect.liveLease.push(
      await closedLoop(
        c,
        Math.max(400, c * 20),
        async () => void (await post(`${live.url}/v1/elect`, electBody())).arrayBuffer(),
      ),
    );
  }
  let seq = lease.seq;
  for (const c of CONCURRENCY) {
    progress(`renew, concurrency ${c}`);
    let granted = 0;
    let refused = 0;
    const level = await closedLoop(c, Math.max(60, c * 4), async () => {
      const fields = {
        cluster_id: CLUSTER,
        epoch: lease.epoch,
        seq,
        leader: leader.name,
        ts: Date.now(),
        nonce: randomBytes(16).toString('hex'),
      };
      const response = await post(`${live.url}/v1/renew`, {
        ...fields,
        sig: signRequest('renew', fields, leader.privateKey),
      });
      const reply = (await response.json()) as { seq?: number };
      if (response.status === 200) {
        granted++;
        seq = Math.max(seq, reply.seq!);
      } else if (response.status === 409) refused++;
      else throw new Error(`renew answered ${response.status}`);
    });
    result.renew.push({ ...level, granted, refusedStale: refused });
  }
  lease = (await client.elect({ name: first!.name, signer: first!.privateKey })).claims;
  const token = live.service.state.lease!.token;
  await live.close();

  // elect where every request starts a new epoch
  const churn = await startEnclave({
    pkiDir,
    stateDir: join(work, 'state-churn'),
    clusterId: CLUSTER,
    policy: 'vrf',
    leaseMs: 1,
    // Measures signing new epochs back to back, not waiting for candidacies to gather.
    candidacySettleMs: 0,
    host: '127.0.0.1',
    port: 0,
    logger,
  });
  for (const c of CONCURRENCY) {
    progress(`elect (new epoch each), concurrency ${c}`);
    result.elect.newEpoch.push(
      await closedLoop(
        c,
        Math.max(40, c * 3),
        async () => void (await post(`${churn.url}/v1/elect`, electBody())).arrayBuffer(),
      ),
    );
  }
  await churn.close();

  progress('certificate verification');
  const expect = {
    clusterId: CLUSTER,
    pinnedChecksum: live.service.checksum,
    keys: new Map([[live.service.kid, client.attested!.publicKey]]),
  };
  const uncachedRuns = 300;
  let t = performance.now();
  for (let i = 0; i < uncachedRuns; i++) verifyCertificate(token, expect);
  result.verify.uncachedUs = Math.round(((performance.now() - t) * 1000) / uncachedRuns);
  const verifier = new CertificateVerifier(expect);
  verifier.verify(token);
  const cachedRuns = 20_000;
  t = performance.now();
  for (let i = 0; i < cachedRuns; i++) verifier.verify(token);
  result.verify.cachedUs = Math.round(((performance.now() - t) * 1000 * 100) / cachedRuns) / 100;
  rmSync(work, { recursive: true, force: true });

  if (values.json) {
    // Levels keyed by concurrency: { c1, c16, c64 }.
    const keyed = <T extends Level>(levels: T[]) =>
      Object.fromEntries(levels.map((l) => [`c${l.concurrency}`, l]));
    const json = {
      ...result,
      elect: { liveLease: keyed(result.elect.liveLease), newEpoch: keyed(result.elect.newEpoch) },
      renew: keyed(result.renew),
    };
    process.stdout.write(`${JSON.stringify(json)}\n`);
    return;
  }
  const row = (name: string, l: Level, extra = '') =>
    `${name.padEnd(22)} ${String(l.concurrency).padStart(4)} ${String(l.p50Ms).padStart(9)} ${String(l.p99Ms).padStart(9)} ${String(l.requestsPerS).padStart(8)}  ${extra}`;
  const lines = [
    `enclave bench: ${members.length} members, 2048-bit RSA (forge keys, OpenSSL arithmetic), vrf policy`,
    `${'what'.padEnd(22)} ${'conc'.padStart(4)} ${'p50 ms'.padStart(9)} ${'p99 ms'.padStart(9)} ${'req/s'.padStart(8)}`,
    ...result.elect.liveLease.map((l) => row('elect (live lease)', l)),
    ...result.elect.newEpoch.map((l) => row('elect (new epoch)', l)),
    ...result.renew.map((l) => row('renew', l, `granted ${l.granted}, refused stale ${l.refusedStale}`)),
    `verify certificate: uncached ${result.verify.uncachedUs} us, cached ${result.verify.cachedUs} us`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}
