// Footprint of each process kind (peer, enclave): resident memory (VmRSS), V8
// heap and start-up time, after --steady-ms of idle running.
//   --mode docker  the compose file with N peers, as a compose project of its
//                  own on the image --image; removed at the end and on Ctrl-C
//   --mode local   the same processes on 127.0.0.1, run from --entry (the .ts
//                  sources, or build/src/cli/main.js after `npx tsc -p tsconfig.build.json`)
// --node-options, --node-flags and --env try a runtime setting (a V8 flag, a
// glibc tunable) on an image as built, without rebuilding it.
// Prints medians per kind, or one JSON document with --json.
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import {
  cpuMs,
  heapOf,
  nodeProcessOf,
  type ProcessMemory,
  REPORT_NODE_OPTIONS,
  rssSplitMb,
  startupMs,
  vmRssMb,
} from '../support/process-memory.ts';
import { percentile } from '../support/stats.ts';
import { sleep } from '../support/waiting.ts';

const HELP = `usage: npm run bench -- footprint [--mode docker|local] [--peers 5] [--steady-ms 60000] [--json]
  [--node-options '...']  added to NODE_OPTIONS (the image's, in docker mode)
  docker: [--image enclave-elect:local] [--node-flags='...'] [--env KEY=VALUE ...]
          --node-flags: node's command-line flags in place of the image's entrypoint (V8 flags
          NODE_OPTIONS refuses, e.g. '--no-opt --lite-mode'); --env: more environment
  local:  [--entry src/cli/main.ts]
RSS (VmRSS), V8 heap and start-up time per process kind (peer, enclave), medians,
after the processes idled --steady-ms (the issue's target is measured after 10 minutes).`;
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const run = promisify(execFile);
const READY_EVENT = { peer: 'peer.started', enclave: 'enclave.listening' } as const;
type Kind = keyof typeof READY_EVENT;

interface Sample extends ProcessMemory {
  kind: Kind;
  startupMs: number | null;
  /** CPU time used since start (start-up included), ms. */
  cpuMs: number;
  /** A peer logged an accepted leader certificate: it works (a setting that breaks it is no saving). Null for the enclave. */
  working: boolean | null;
}

/** Whether a process's log shows it doing its job. */
const working = (kind: Kind, logs: string) =>
  kind === 'peer' ? logs.includes('"event":"certificate.accepted"') : null;

interface Options {
  mode: 'docker' | 'local';
  peers: number;
  steadyMs: number;
  image: string;
  entry: string;
  nodeOptions: string;
  /** Null: the image's own entrypoint flags. */
  nodeFlags: string[] | null;
  env: Record<string, string>;
}

function parseEnv(pairs: string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at < 1) throw new Error(`--env ${pair}: expected KEY=VALUE`);
    env[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return env;
}

function parse(argv: string[]): Options | null {
  const { values } = parseArgs({
    args: argv,
    options: {
      mode: { type: 'string', default: 'docker' },
      peers: { type: 'string', default: '5' },
      'steady-ms': { type: 'string', default: '60000' },
      image: { type: 'string', default: 'enclave-elect:local' },
      entry: { type: 'string', default: join(ROOT, 'src/cli/main.ts') },
      'node-options': { type: 'string', default: '' },
      'node-flags': { type: 'string' },
      env: { type: 'string', multiple: true, default: [] },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean' },
    },
  });
  if (values.help) return null;
  const peers = Number(values.peers);
  const steadyMs = Number(values['steady-ms']);
  if (values.mode !== 'docker' && values.mode !== 'local') throw new Error('--mode must be docker or local');
  if (!Number.isInteger(peers) || peers < 1 || peers > 50) throw new Error('--peers must be 1-50');
  if (!Number.isInteger(steadyMs) || steadyMs < 0) throw new Error('--steady-ms must be a whole number >= 0');
  return {
    mode: values.mode,
    peers,
    steadyMs,
    image: values.image,
    entry: values.entry,
    nodeOptions: values['node-options'],
    nodeFlags: values['node-flags'] === undefined ? null : values['node-flags'].split(/\s+/).filter(Boolean),
    env: parseEnv(values.env),
  };
}

/** Stop on Ctrl-C too: run `cleanup` once, then exit 130. */
function onInterrupt(cleanup: () => Promise<void>): () => void {
  const handler = () => void cleanup().finally(() => process.exit(130));
  process.once('SIGINT', handler);
  process.once('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}

async function measureDocker(options: Options, progress: (line: string) => void): Promise<Sample[]> {
  const project = `ee-footprint-${process.pid}`;
  const scratch = mkdtempSync(join(tmpdir(), 'ee-footprint-'));
  const { stdout: imageConfig } = await run('docker', [
    'image',
    'inspect',
    options.image,
    '--format',
    '{{json .Config}}',
  ]);
  const config = JSON.parse(imageConfig) as {
    Env?: string[];
    Healthcheck?: { Test?: string[] };
  };
  const imageNodeOptions = config.Env?.find((e) => e.startsWith('NODE_OPTIONS='))?.slice(13) ?? '';
  // The image's own health check: an older image (a "before" figure) has its entry elsewhere.
  const healthcheck = { test: config.Healthcheck?.Test };
  const nodeOptions = `${imageNodeOptions} ${options.nodeOptions} ${REPORT_NODE_OPTIONS}`.trim();
  const environment = { ...options.env, NODE_OPTIONS: nodeOptions };
  const entrypoint = options.nodeFlags ? withNodeFlags(options.nodeFlags) : undefined;
  const label = { 'io.enclave-elect.test': 'footprint' };
  const override = join(scratch, 'footprint.override.json');
  writeFileSync(
    override,
    JSON.stringify({
      services: {
        pki: { image: options.image, labels: label },
        enclave: { image: options.image, labels: label, healthcheck, environment, entrypoint },
        peer: { image: options.image, labels: label, healthcheck, environment, entrypoint },
      },
    }),
  );
  const compose = (...args: string[]) =>
    run(
      'docker',
      ['compose', '-p', project, '-f', join(ROOT, 'docker-compose.yml'), '-f', override, ...args],
      {
        maxBuffer: 64 << 20,
      },
    );
  let removed = false;
  const down = async () => {
    if (removed) return;
    removed = true;
    progress(`removing compose project ${project}`);
    await compose('down', '-v', '--remove-orphans', '--timeout', '5').catch(() => {});
    rmSync(scratch, { recursive: true, force: true });
  };
  const release = onInterrupt(down);
  try {
    progress(`starting compose project ${project}: enclave + ${options.peers} peers on ${options.image}`);
    await compose(
      'up',
      '-d',
      '--no-build',
      '--scale',
      `peer=${options.peers}`,
      '--wait',
      '--wait-timeout',
      '180',
    );
    progress(`idling ${options.steadyMs} ms`);
    await sleep(options.steadyMs);
    const samples: Sample[] = [];
    for (const kind of ['enclave', 'peer'] as const) {
      const { stdout } = await compose('ps', '-q', kind);
      for (const id of stdout.split('\n').filter(Boolean)) {
        const { stdout: info } = await run('docker', [
          'inspect',
          id,
          '--format',
          '{{.State.Pid}} {{.State.StartedAt}}',
        ]);
        const [initPid, startedAt] = info.trim().split(' ');
        const pid = nodeProcessOf(Number(initPid));
        const rssMb = vmRssMb(pid);
        const split = rssSplitMb(pid);
        const heap = await heapOf(pid, `/proc/${pid}/root/tmp`);
        const { stdout: logs } = await run('docker', ['logs', id], { maxBuffer: 64 << 20 });
        const started = startupMs(logs, READY_EVENT[kind], new Date(startedAt!).getTime());
        samples.push({
          kind,
          rssMb,
          ...split,
          ...heap,
          startupMs: started,
          cpuMs: cpuMs(pid),
          working: working(kind, logs),
        });
      }
    }
    return samples;
  } finally {
    release();
    await down();
  }
}

/** The CLI inside the image (README, "The image"): run with `flags` in place of the image's entrypoint. */
const withNodeFlags = (flags: string[]) => ['node', ...flags, '/app/src/cli/main.js'];

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

async function measureLocal(options: Options, progress: (line: string) => void): Promise<Sample[]> {
  const scratch = mkdtempSync(join(tmpdir(), 'ee-footprint-'));
  const env = {
    ...process.env,
    LOG_PRETTY: '0',
    LOG_LEVEL: 'info',
    CLUSTER_ID: 'footprint',
    NODE_OPTIONS: `${options.nodeOptions} ${REPORT_NODE_OPTIONS.replace('/tmp', scratch)}`.trim(),
  };
  const children: { kind: Kind; pid: number; startedAt: number; logs: () => string; stop: () => void }[] = [];
  const start = (kind: Kind, args: string[]) => {
    const startedAt = Date.now();
    const child = spawn(process.execPath, [options.entry, kind, ...args], {
      env,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let logs = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      logs += chunk;
    });
    children.push({ kind, pid: child.pid!, startedAt, logs: () => logs, stop: () => child.kill('SIGTERM') });
  };
  const stopAll = async () => {
    for (const child of children.splice(0)) child.stop();
    await sleep(500);
    rmSync(scratch, { recursive: true, force: true });
  };
  const release = onInterrupt(stopAll);
  try {
    const pki = join(scratch, 'pki');
    await run(process.execPath, [options.entry, 'pki', 'init', '--out', pki], { env });
    const enclavePort = await freePort();
    start('enclave', [
      '--pki',
      pki,
      '--state-dir',
      join(scratch, 'state'),
      '--host',
      '127.0.0.1',
      '--port',
      String(enclavePort),
    ]);
    const gossipPorts = await Promise.all(Array.from({ length: options.peers }, freePort));
    for (const [i, port] of gossipPorts.entries()) {
      start('peer', [
        ...['--name', `peer-${i + 1}`, '--bind-address', '127.0.0.1', '--gossip-port', String(port)],
        ...['--admin-address', '127.0.0.1', '--admin-port', '0', '--join', `127.0.0.1:${gossipPorts[0]}`],
        ...['--enclave-url', `http://127.0.0.1:${enclavePort}`, '--pki-root', join(pki, 'root.crt.pem')],
      ]);
    }
    progress(
      `started an enclave and ${options.peers} peers from ${options.entry}; idling ${options.steadyMs} ms`,
    );
    await sleep(options.steadyMs);
    const samples: Sample[] = [];
    for (const child of children) {
      const rssMb = vmRssMb(child.pid);
      const split = rssSplitMb(child.pid);
      const heap = await heapOf(child.pid, scratch);
      samples.push({
        kind: child.kind,
        rssMb,
        ...split,
        ...heap,
        startupMs: startupMs(child.logs(), READY_EVENT[child.kind], child.startedAt),
        cpuMs: cpuMs(child.pid),
        working: working(child.kind, child.logs()),
      });
    }
    return samples;
  } finally {
    release();
    await stopAll();
  }
}

function medians(samples: Sample[]) {
  const median = (values: (number | null)[]) =>
    percentile(
      values.filter((v): v is number => v !== null),
      50,
    );
  return (['peer', 'enclave'] as const).map((kind) => {
    const of = samples.filter((s) => s.kind === kind);
    return {
      kind,
      processes: of.length,
      rssMb: median(of.map((s) => s.rssMb)),
      rssMaxMb: of.length ? Math.max(...of.map((s) => s.rssMb)) : null,
      anonMb: median(of.map((s) => s.anonMb)),
      fileMb: median(of.map((s) => s.fileMb)),
      heapUsedMb: median(of.map((s) => s.heapUsedMb)),
      heapTotalMb: median(of.map((s) => s.heapTotalMb)),
      startupMs: median(of.map((s) => s.startupMs)),
      cpuMs: median(of.map((s) => s.cpuMs)),
    };
  });
}

export async function main(argv: string[]): Promise<void> {
  const options = parse(argv);
  if (!options) {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  const json = argv.includes('--json');
  const progress = (line: string) => process.stderr.write(`footprint: ${line}\n`);
  const samples =
    options.mode === 'docker'
      ? await measureDocker(options, progress)
      : await measureLocal(options, progress);
  const rows = medians(samples);
  const broken = samples.filter((s) => s.working === false).length;
  if (broken > 0) {
    progress(
      `${broken} of ${options.peers} peers never accepted a leader certificate: these figures are not of working peers`,
    );
    process.exitCode = 1;
  }
  const where = options.mode === 'docker' ? options.image : options.entry;
  const settings = {
    nodeOptions: options.nodeOptions,
    nodeFlags: options.nodeFlags,
    env: options.env,
  };
  if (json) {
    process.stdout.write(
      `${JSON.stringify({ mode: options.mode, source: where, steadyMs: options.steadyMs, settings, medians: rows, samples })}\n`,
    );
    return;
  }
  process.stdout.write(
    `footprint, ${options.mode} (${where}), after ${options.steadyMs} ms idle, medians; settings ${JSON.stringify(settings)}:\n`,
  );
  process.stdout.write(
    'kind     n   VmRSS MB (max)   anon / file MB   heap used/total MB   start-up ms   CPU ms since start\n',
  );
  for (const r of rows) {
    process.stdout.write(
      `${r.kind.padEnd(8)} ${String(r.processes).padStart(2)}   ${String(r.rssMb).padStart(6)} (${r.rssMaxMb})   ${String(r.anonMb).padStart(5)} / ${r.fileMb}   ${String(r.heapUsedMb).padStart(8)} / ${r.heapTotalMb}   ${String(r.startupMs).padStart(10)}   ${String(r.cpuMs).padStart(10)}\n`,
    );
  }
}
