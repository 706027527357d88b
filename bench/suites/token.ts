// Fencing token verification on one core, as a resource server does it:
//   cached    the attestation document was verified before (one per enclave
//             key): each token costs the certificate's RS256 signature, the VRF
//             proof and the claim checks
//   uncached  every token verified from scratch: also the X.509 chain to the
//             pinned root (node-forge) and the attestation's signature
// Product key sizes (2048-bit RSA), a real enclave on 127.0.0.1 issuing the
// token. Target: >= 5,000 verifications/s cached. Table, or JSON with --json.

import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { EnclaveClient } from '../../src/enclave/client/enclave-client.ts';
import { initPki, loadRootCertificate } from '../../src/enclave/pki.ts';
import { startEnclave } from '../../src/enclave/start-enclave.ts';
import { createLogger } from '../../src/log/logger.ts';
import { encodeFencingToken } from '../../src/token/fencing-token.ts';
import { TokenVerifier } from '../../src/token/verify-token.ts';

const HELP = `usage: npm run bench -- token [--json] [--seconds 3]
Fencing token verifications per second on one core, attestation cached and uncached.`;
const CLUSTER = 'bench';
const TARGET_CACHED_PER_S = 5000;

/**
 * Run `verify` back to back for `seconds` of wall time. Rates per second of
 * wall time and per second of this thread's CPU time: on a shared machine the
 * second is the cost on one core, whatever else runs.
 */
function rate(seconds: number, verify: () => void): { perS: number; perCpuS: number; runs: number } {
  const until = performance.now() + seconds * 1000;
  const started = performance.now();
  const cpu = process.threadCpuUsage();
  let runs = 0;
  while (performance.now() < until) {
    // Batches of 20 keep the clock reads out of the figure.
    for (let i = 0; i < 20; i++) verify();
    runs += 20;
  }
  const used = process.threadCpuUsage(cpu);
  const cpuS = (used.user + used.system) / 1e6;
  return {
    perS: Math.round(runs / ((performance.now() - started) / 1000)),
    perCpuS: Math.round(runs / cpuS),
    runs,
  };
}

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      json: { type: 'boolean', default: false },
      seconds: { type: 'string', default: '3' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  const seconds = Number(values.seconds);
  if (!(seconds > 0 && seconds <= 60)) throw new Error('--seconds must be a number in (0, 60]');
  const progress = (text: string) => process.stderr.write(`token bench: ${text}\n`);
  const work = mkdtempSync(join(tmpdir(), 'enclave-elect-bench-token-'));
  try {
    progress('PKI, enclave and a lease (2048-bit keys)');
    const pkiDir = join(work, 'pki');
    initPki(pkiDir);
    const root = loadRootCertificate(pkiDir);
    const enclave = await startEnclave({
      pkiDir,
      stateDir: join(work, 'state'),
      clusterId: CLUSTER,
      policy: 'vrf',
      leaseMs: 10 * 60_000, // outlives the run: no token expires mid-measurement
      host: '127.0.0.1',
      port: 0,
      logger: createLogger({ level: 'silent', pretty: false }),
    });
    const client = new EnclaveClient({
      url: enclave.url,
      root,
      pinnedChecksum: enclave.service.checksum,
      clusterId: CLUSTER,
    });
    // One member stands (a signed candidacy): the enclave elects from the candidates it heard.
    const lease = await client.elect({ name: 'peer-0', signer: generateKeyPairSync('ed25519').privateKey });
    const token = encodeFencingToken({
      certificate: lease.compact,
      attestation: client.attestationFor(lease.claims.kid)!,
    });
    await enclave.close();
    const options = { root, pinnedChecksum: enclave.service.checksum, clusterId: CLUSTER };

    progress(`cached, ${seconds} s`);
    const verifier = new TokenVerifier(options);
    verifier.verify(token);
    const cached = rate(seconds, () => verifier.verify(token));
    progress(`uncached, ${seconds} s`);
    const uncached = rate(seconds, () => new TokenVerifier(options).verify(token));
    const result = {
      suite: 'token',
      keyBits: 2048,
      tokenBytes: token.length,
      cachedPerCpuS: cached.perCpuS,
      uncachedPerCpuS: uncached.perCpuS,
      cachedPerWallS: cached.perS,
      uncachedPerWallS: uncached.perS,
      cachedUs: Math.round((1e6 / cached.perCpuS) * 10) / 10,
      uncachedUs: Math.round((1e6 / uncached.perCpuS) * 10) / 10,
      loadAverage: Math.round(loadavg()[0]! * 100) / 100,
      targetCachedPerS: TARGET_CACHED_PER_S,
      met: cached.perCpuS >= TARGET_CACHED_PER_S,
    };
    if (values.json) {
      process.stdout.write(`${JSON.stringify(result)}\n`);
      return;
    }
    const lines = [
      `token bench: one core, 2048-bit RSA, token ${result.tokenBytes} bytes, load average ${result.loadAverage}`,
      `${''.padEnd(20)} ${'per CPU-second'.padStart(15)} ${'per wall-second'.padStart(16)} ${'us each'.padStart(9)}`,
      `${'cached attestation'.padEnd(20)} ${String(result.cachedPerCpuS).padStart(15)} ${String(result.cachedPerWallS).padStart(16)} ${String(result.cachedUs).padStart(9)}`,
      `${'uncached'.padEnd(20)} ${String(result.uncachedPerCpuS).padStart(15)} ${String(result.uncachedPerWallS).padStart(16)} ${String(result.uncachedUs).padStart(9)}`,
      `target >= ${TARGET_CACHED_PER_S}/s cached, one core: ${result.met ? 'met' : 'NOT met'}`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
