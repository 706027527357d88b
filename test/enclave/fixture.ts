// Shared set-up for enclave tests: a PKI in a temp dir, an enclave on
// 127.0.0.1 port 0 with captured JSON logs, peers with Ed25519 keys, clients.
import { generateKeyPairSync, type KeyObject, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Policy } from '../../src/crypto/leader-certificate.ts';
import type { MemberIdentity } from '../../src/crypto/member-digest.ts';
import type { Certificate } from '../../src/crypto/x509.ts';
import { EnclaveClient, type EnclaveClientOptions } from '../../src/enclave/client/enclave-client.ts';
import type { StartedEnclaveServer } from '../../src/enclave/http-server.ts';
import { type ElectRequestFields, signedElectBody } from '../../src/enclave/lease-signature.ts';
import { initPki, loadRootCertificate } from '../../src/enclave/pki.ts';
import { startEnclave } from '../../src/enclave/start-enclave.ts';
import type { HttpLimits } from '../../src/http/http-limits.ts';
import { createLogger } from '../../src/log/logger.ts';
import type { Clock, ManualClock } from '../../src/time/clock.ts';

/** Enclave keys in unit tests: 1024 bits, test-only, to keep pure-JS RSA signing fast. */
export const TEST_KEY_BITS = 1024;
export const CLUSTER = 'test-cluster';

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `enclave-elect-${prefix}-`));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

export interface TestPki {
  dir: string;
  root: Certificate;
}

export function makePki(keyBits = TEST_KEY_BITS): TestPki {
  const dir = tempDir('pki');
  initPki(dir, { keyBits });
  return { dir, root: loadRootCertificate(dir) };
}

export interface TestEnclave extends StartedEnclaveServer {
  logs: Record<string, unknown>[];
  stateDir: string;
}

export interface TestEnclaveOptions {
  pki: TestPki;
  stateDir?: string;
  policy?: Policy;
  leaseMs?: number;
  clock?: Clock;
  functionPath?: string;
  keyBits?: number;
  port?: number;
  /** Join secret file or directory: admission on. */
  joinSecretPath?: string;
  identitiesPerAddress?: number;
  admissionTtlMs?: number;
  maxTermMs?: number;
  /** The enclave's candidacy settle delay (0: elect as soon as a request finds no live lease). */
  settleMs?: number;
  /** How long a candidacy counts (default: the enclave's, two minutes). */
  candidacyWindowMs?: number;
  httpLimits?: HttpLimits;
}

export async function startTestEnclave(options: TestEnclaveOptions): Promise<TestEnclave> {
  const logs: Record<string, unknown>[] = [];
  const logger = createLogger({
    level: 'info',
    pretty: false,
    destination: { write: (line: string) => logs.push(JSON.parse(line) as Record<string, unknown>) },
  });
  const stateDir = options.stateDir ?? tempDir('state');
  const started = await startEnclave({
    pkiDir: options.pki.dir,
    stateDir,
    clusterId: CLUSTER,
    policy: options.policy ?? 'vrf',
    leaseMs: options.leaseMs ?? 2000,
    host: '127.0.0.1',
    port: options.port ?? 0,
    logger,
    keyBits: options.keyBits ?? TEST_KEY_BITS,
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.functionPath ? { functionPath: options.functionPath } : {}),
    ...(options.joinSecretPath ? { joinSecretPath: options.joinSecretPath } : {}),
    ...(options.identitiesPerAddress ? { identitiesPerAddress: options.identitiesPerAddress } : {}),
    ...(options.admissionTtlMs ? { admissionTtlMs: options.admissionTtlMs } : {}),
    ...(options.maxTermMs ? { maxTermMs: options.maxTermMs } : {}),
    ...(options.settleMs === undefined ? {} : { candidacySettleMs: options.settleMs }),
    ...(options.candidacyWindowMs === undefined ? {} : { candidacyWindowMs: options.candidacyWindowMs }),
    ...(options.httpLimits ? { httpLimits: options.httpLimits } : {}),
  });
  return Object.assign(started, { logs, stateDir });
}

export interface TestPeer extends MemberIdentity {
  privateKey: KeyObject;
}

export function makePeers(count: number, prefix = 'peer'): TestPeer[] {
  return Array.from({ length: count }, (_, i) => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const key = (publicKey.export({ format: 'jwk' }) as { x: string }).x;
    return { name: `${prefix}-${String(i).padStart(3, '0')}`, key, privateKey };
  });
}

export const entries = (peers: readonly TestPeer[]): MemberIdentity[] =>
  peers.map(({ name, key }) => ({ name, key }));

export function makeClient(
  enclave: { url: string },
  pki: TestPki,
  pinnedChecksum: string,
  overrides: Partial<EnclaveClientOptions> = {},
): EnclaveClient {
  return new EnclaveClient({
    url: enclave.url,
    root: pki.root,
    pinnedChecksum,
    clusterId: CLUSTER,
    minKeyBits: TEST_KEY_BITS,
    timeoutMs: 5000,
    ...overrides,
  });
}

/** Stand as a candidate: an elect request signed by `peer`. */
export function electAs(
  client: EnclaveClient,
  peer: TestPeer,
  options: { knownEpoch?: number; waitMs?: number } = {},
): ReturnType<EnclaveClient['elect']> {
  return client.elect({ name: peer.name, signer: peer.privateKey, ...options });
}

/**
 * Every peer stands (one signed elect each, concurrently) and all get the same
 * answer. With a manual clock, time moves past the enclave's settle delay once
 * every candidacy has arrived and the election waits for it.
 */
export async function standAll(
  client: EnclaveClient,
  peers: readonly TestPeer[],
  options: { knownEpoch?: number; waitMs?: number } = {},
  drive?: { enclave: TestEnclave; clock: ManualClock },
): ReturnType<EnclaveClient['elect']> {
  const before = drive?.enclave.service.candidaciesReceived ?? 0;
  const all = Promise.all(peers.map((peer) => electAs(client, peer, options)));
  if (drive) {
    // Once every candidacy is in, move past the settle delay (a live lease answers at once anyway).
    while (drive.enclave.service.candidaciesReceived - before < peers.length) {
      await new Promise((r) => setTimeout(r, 2));
    }
    await new Promise((r) => setTimeout(r, 5));
    drive.clock.advance(drive.enclave.service.candidacySettleMs);
  }
  return (await all)[0]!;
}

/** A signed elect body, as a client would send it (for tests that post raw JSON). */
export function electBody(
  peer: TestPeer,
  overrides: Partial<{
    ts: number;
    nonce: string;
    wait_ms: number;
    known_epoch: number;
    cluster_id: string;
  }> = {},
): ElectRequestFields & { sig: string } {
  const fields = { cluster_id: CLUSTER, known_epoch: 0, wait_ms: 0, name: peer.name };
  const fresh = { ts: Date.now(), nonce: randomBytes(16).toString('hex') };
  // A peer-like object may pair a name with a key it does not hold: sign with its key, claim `peer.key`.
  const body = signedElectBody({ ...fields, ...fresh, ...overrides }, peer.privateKey);
  return body.key === peer.key ? body : { ...body, key: peer.key };
}

export interface ReplyBody {
  error?: { code: string; message: string };
  certificate?: string | null;
  epoch?: number;
  leader?: string | null;
  candidates?: { name: string; key: string }[] | null;
}

export async function postJson(url: string, body: unknown): Promise<{ status: number; body: ReplyBody }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as ReplyBody };
}
