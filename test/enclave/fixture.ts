// Shared set-up for enclave tests: a PKI in a temp dir, an enclave on
// 127.0.0.1 port 0 with captured JSON logs, peers with Ed25519 keys, clients.
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Policy } from '../../src/crypto/leader-certificate.ts';
import type { MemberIdentity } from '../../src/crypto/member-digest.ts';
import type { Certificate } from '../../src/crypto/x509.ts';
import { EnclaveClient, type EnclaveClientOptions } from '../../src/enclave/client/enclave-client.ts';
import type { StartedEnclaveServer } from '../../src/enclave/http-server.ts';
import { initPki, loadRootCertificate } from '../../src/enclave/pki.ts';
import { startEnclave } from '../../src/enclave/start-enclave.ts';
import type { HttpLimits } from '../../src/http/http-limits.ts';
import { createLogger } from '../../src/log/logger.ts';
import type { Clock } from '../../src/time/clock.ts';

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

export interface ReplyBody {
  error?: { code: string; message: string };
  certificate?: string | null;
  epoch?: number;
  leader?: string | null;
}

export async function postJson(url: string, body: unknown): Promise<{ status: number; body: ReplyBody }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as ReplyBody };
}
