// A whole cluster as processes on 127.0.0.1, no Docker: a mock PKI in a
// directory, one enclave and N peers, each a child process of this CLI with
// its log in <dir>/logs. Used by `enclave-elect local` and by the process-mode
// benchmarks. Everything it starts it stops.
import { type ChildProcess, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Policy } from '../crypto/leader-certificate.ts';
import { PKI_FILES } from '../enclave/pki.ts';
import { runPkiInit } from '../enclave/pki-init.ts';
import { EnclaveElectError } from '../errors.ts';
import { type PeerStatus, parseStatus } from '../orchestrator/peer-status.ts';
import type { PeerReport } from '../orchestrator/status-report.ts';
import { createWriteStream, mkdirSync, mkdtempSync, rmSync } from '../platform/node-fs.ts';
import { seedPorts } from './seed-ports.ts';

// The entry point beside this module: main.ts from the sources, main.js where compiled (the image).
const MAIN = fileURLToPath(new URL(`../cli/main${import.meta.url.slice(-3)}`, import.meta.url));

export interface LocalClusterOptions {
  peers: number;
  policy: Policy;
  leaseMs: number;
  clusterId?: string;
  /** Working directory (PKI, enclave state, logs); a temporary one by default, removed on stop. */
  dir?: string;
  /** Keep the directory after stop. */
  keep?: boolean;
  /** Extra environment for every child (e.g. LOG_LEVEL). */
  env?: NodeJS.ProcessEnv;
}

export interface LocalProcess {
  name: string;
  role: 'enclave' | 'peer';
  child: ChildProcess;
  /** Admin HTTP port (peers) or service port (enclave). */
  port: number;
  gossipPort?: number;
  log: string;
  exited: { code: number | null; signal: NodeJS.Signals | null } | null;
}

export async function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => {
      const { port } = socket.address();
      socket.close(() => resolve(port));
    });
  });
}

export class LocalCluster {
  readonly dir: string;
  readonly options: LocalClusterOptions;
  readonly processes: LocalProcess[] = [];
  #enclave: LocalProcess | undefined;
  #nextPeer = 1;
  #temporary: boolean;
  /** Gossip ports of the first peers, reserved up front so they can name each other before they start. */
  #seedPorts: number[] = [];

  constructor(options: LocalClusterOptions) {
    this.options = options;
    this.#temporary = options.dir === undefined;
    this.dir = options.dir ?? mkdtempSync(join(tmpdir(), 'enclave-elect-local-'));
    mkdirSync(join(this.dir, 'logs'), { recursive: true });
  }

  get clusterId(): string {
    return this.options.clusterId ?? 'local';
  }

  get enclaveUrl(): string {
    if (!this.#enclave) throw new EnclaveElectError('E_NOT_STARTED', 'the enclave is not started');
    return `http://127.0.0.1:${this.#enclave.port}`;
  }

  peers(): LocalProcess[] {
    return this.processes.filter((p) => p.role === 'peer');
  }

  /** PKI, enclave (waits until healthy), then the peers. */
  async start(onProgress: (message: string) => void = () => {}): Promise<void> {
    onProgress(`creating the mock attestation PKI in ${join(this.dir, 'pki')}`);
    runPkiInit(join(this.dir, 'pki'), { ifMissing: true, join: join(this.dir, 'join') });
    await this.startEnclave();
    onProgress(`enclave listening on ${this.enclaveUrl}`);
    this.#seedPorts = [];
    for (let i = 0; i < Math.min(2, this.options.peers); i++) this.#seedPorts.push(await freeUdpPort());
    for (let i = 0; i < this.options.peers; i++) await this.addPeer();
    onProgress(`${this.options.peers} peers started; logs in ${join(this.dir, 'logs')}`);
  }

  async startEnclave(): Promise<LocalProcess> {
    const port = this.#enclave?.port ?? (await freeTcpPort());
    const args = [
      'enclave',
      '--pki',
      join(this.dir, 'pki'),
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--state-dir',
      join(this.dir, 'enclave-state'),
      '--policy',
      this.options.policy,
      '--lease-ms',
      String(this.options.leaseMs),
      '--cluster-id',
      this.clusterId,
      '--join-secret',
      join(this.dir, 'join'),
      // Every local peer connects from 127.0.0.1: one address, many identities.
      // On one machine the operator holds every member (docs/security.md §2).
      '--identities-per-address',
      '4096',
    ];
    const enclave = this.#spawn('enclave', 'enclave', args, port);
    if (this.#enclave) this.processes.splice(this.processes.indexOf(this.#enclave), 1);
    this.#enclave = enclave;
    await waitFor(
      () => httpOk(`http://127.0.0.1:${port}/healthz`),
      30_000,
      () => enclave.exited,
      `the enclave (log: ${enclave.log})`,
    );
    return enclave;
  }

  async addPeer(): Promise<LocalProcess> {
    const index = this.#nextPeer++;
    const name = `peer-${index}`;
    const gossipPort = this.#seedPorts[index - 1] ?? (await freeUdpPort());
    const adminPort = await freeTcpPort();
    // Not yet started seeds are fine: a peer keeps trying them, and a peer
    // that names only itself would elect alone before the others arrive.
    const seeds = seedPorts(this.#seedPorts, this.peers(), gossipPort).map((p) => `127.0.0.1:${p}`);
    const args = [
      'peer',
      '--name',
      name,
      '--bind-address',
      '127.0.0.1',
      '--gossip-port',
      String(gossipPort),
      '--admin-address',
      '127.0.0.1',
      '--admin-port',
      String(adminPort),
      ...(seeds.length > 0 ? ['--join', seeds.join(',')] : []),
      '--enclave-url',
      this.enclaveUrl,
      '--pki-root',
      join(this.dir, 'pki', PKI_FILES.rootCert),
      '--cluster-id',
      this.clusterId,
      '--join-secret',
      join(this.dir, 'join'),
    ];
    const peer = this.#spawn(name, 'peer', args, adminPort);
    peer.gossipPort = gossipPort;
    return peer;
  }

  #spawn(name: string, role: LocalProcess['role'], args: string[], port: number): LocalProcess {
    const log = join(this.dir, 'logs', `${name}.log`);
    const out = createWriteStream(log, { flags: 'a' });
    const child = spawn(process.execPath, [MAIN, ...args], {
      env: { ...process.env, LOG_PRETTY: '0', ...this.options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.pipe(out);
    child.stderr!.pipe(out);
    const entry: LocalProcess = { name, role, child, port, log, exited: null };
    child.once('exit', (code, signal) => {
      entry.exited = { code, signal };
    });
    this.processes.push(entry);
    return entry;
  }

  /** Each peer's /status, as the status table reads it (the "container" column shows the pid). */
  async status(timeoutMs = 1000): Promise<PeerReport[]> {
    return Promise.all(
      this.peers().map(async (p): Promise<PeerReport> => {
        const base = { container: `pid ${p.child.pid}`, name: p.name };
        if (p.exited) {
          return {
            ...base,
            state: 'exited',
            status: null,
            error: `exited (${p.exited.signal ?? p.exited.code})`,
          };
        }
        try {
          return { ...base, state: 'running', status: await peerStatus(p.port, timeoutMs), error: null };
        } catch (error) {
          return { ...base, state: 'running', status: null, error: (error as Error).message };
        }
      }),
    );
  }

  /** Signal one process (SIGKILL for a crash, SIGTERM for a graceful stop) and wait for it to exit. */
  async signal(process: LocalProcess, signal: NodeJS.Signals, timeoutMs = 5000): Promise<void> {
    if (process.exited) return;
    const exited = new Promise<void>((resolve) => process.child.once('exit', () => resolve()));
    process.child.kill(signal);
    await Promise.race([exited, new Promise((r) => setTimeout(r, timeoutMs).unref())]);
  }

  /** SIGTERM everything (peers first, so leaders can resign), SIGKILL what lingers, remove the directory. */
  async stop(): Promise<void> {
    const alive = (role: LocalProcess['role']) => this.processes.filter((p) => p.role === role && !p.exited);
    await Promise.all(alive('peer').map((p) => this.signal(p, 'SIGTERM', 3000)));
    await Promise.all(alive('enclave').map((p) => this.signal(p, 'SIGTERM', 3000)));
    await Promise.all(this.processes.filter((p) => !p.exited).map((p) => this.signal(p, 'SIGKILL', 2000)));
    if (this.#temporary && !this.options.keep) rmSync(this.dir, { recursive: true, force: true });
  }
}

export async function peerStatus(port: number, timeoutMs: number): Promise<PeerStatus> {
  let response: Response;
  try {
    response = await fetch(`http://127.0.0.1:${port}/status`, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    throw new Error(cause ?? (error as Error).message);
  }
  const text = await response.text();
  if (!response.ok) throw new Error(`HTTP ${response.status}: ${text.slice(0, 120)}`);
  return parseStatus(text);
}

async function httpOk(url: string): Promise<boolean> {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(1000) })).ok;
  } catch {
    return false;
  }
}

async function waitFor(
  ready: () => Promise<boolean>,
  timeoutMs: number,
  exited: () => LocalProcess['exited'],
  what: string,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await ready()) return;
    const gone = exited();
    if (gone)
      throw new EnclaveElectError(
        'E_START_FAILED',
        `${what} exited (${gone.signal ?? gone.code}) while starting`,
      );
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new EnclaveElectError('E_TIMEOUT', `${what} not ready within ${timeoutMs} ms`);
}
