// A Docker Swarm of several engines on this one host: each "node" is a
// Docker-in-Docker container on a bridge network the test creates, started
// without --privileged (ENVIRONMENT.md: the capabilities one by one, seccomp and
// AppArmor unconfined, the device cgroup rule, a volume for /var/lib/docker).
// Everything carries the test label; dispose() removes it, and the host's own
// engine never joins or leaves a swarm.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { docker, newRunId, sweep, testLabels } from './docker.ts';

/** The node image: Debian's Docker engine on the project's base image. */
export const NODE_IMAGE = 'enclave-elect-swarm-node:itest';
const NODE_DOCKERFILE = `FROM node:24-trixie-slim
RUN apt-get update \\
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends docker.io docker-cli iptables iproute2 fuse-overlayfs ca-certificates \\
 && rm -rf /var/lib/apt/lists/*
`;

// Every capability but SYS_RESOURCE (missing from this host's bounding set, so
// --privileged fails) and those Docker 20.10 refuses by name (BPF, PERFMON,
// CHECKPOINT_RESTORE).
const NODE_CAPABILITIES = [
  'AUDIT_CONTROL',
  'AUDIT_READ',
  'AUDIT_WRITE',
  'BLOCK_SUSPEND',
  'CHOWN',
  'DAC_OVERRIDE',
  'DAC_READ_SEARCH',
  'FOWNER',
  'FSETID',
  'IPC_LOCK',
  'IPC_OWNER',
  'KILL',
  'LEASE',
  'LINUX_IMMUTABLE',
  'MAC_ADMIN',
  'MAC_OVERRIDE',
  'MKNOD',
  'NET_ADMIN',
  'NET_BIND_SERVICE',
  'NET_BROADCAST',
  'NET_RAW',
  'SETFCAP',
  'SETGID',
  'SETPCAP',
  'SETUID',
  'SYS_ADMIN',
  'SYS_BOOT',
  'SYS_CHROOT',
  'SYS_MODULE',
  'SYS_NICE',
  'SYS_PACCT',
  'SYS_PTRACE',
  'SYS_RAWIO',
  'SYS_TIME',
  'SYS_TTY_CONFIG',
  'SYSLOG',
  'WAKE_ALARM',
];

// /sys and the cgroup hierarchies come read-only without --privileged; dockerd
// needs them writable. exec: dockerd is PID 1's successor, so `docker kill NODE`
// takes the whole engine and its containers down at once, like a power cut.
const NODE_BOOT = [
  'set -e',
  'mount -o remount,rw /sys',
  // The cgroup hierarchies are read-only bind mounts: only a bind remount lifts that.
  'for d in /sys/fs/cgroup/*; do mount -o remount,bind,rw "$d"; done',
  // A second socket under /engine (bind-mounted from the host on the manager): the
  // host's CLI reaches the manager's engine API with no TCP port opened.
  'mkdir -p /engine',
  'exec dockerd --storage-driver overlay2 --host unix:///var/run/docker.sock --host unix:///engine/docker.sock >/var/log/dockerd.log 2>&1',
].join('; ');

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run a host command; stdin may be a string or a readable stream; `env` adds to this process's environment. */
export function run(
  command: string,
  args: string[],
  stdin?: string | NodeJS.ReadableStream,
  env: Record<string, string> = {},
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    if (typeof stdin === 'string') child.stdin.end(stdin);
    else if (stdin) stdin.pipe(child.stdin);
    else child.stdin.end();
  });
}

/** Like run(), but a non-zero exit is an error naming the command and its stderr. */
export async function runOk(
  command: string,
  args: string[],
  stdin?: string | NodeJS.ReadableStream,
  env: Record<string, string> = {},
): Promise<string> {
  const result = await run(command, args, stdin, env);
  if (result.code !== 0) {
    throw new Error(
      `${command} ${args.join(' ')} exited ${result.code}: ${result.stderr.trim().slice(-800)}`,
    );
  }
  return result.stdout;
}

export async function buildNodeImage(): Promise<void> {
  await runOk('docker', ['build', '--quiet', '--tag', NODE_IMAGE, '-'], NODE_DOCKERFILE);
}

export interface SwarmNode {
  /** Container name on the host; also the node's hostname in the swarm. */
  name: string;
  id: string;
  /** Address on the test network (swarm control, VXLAN). */
  ip: string;
}

export class SwarmNodes implements AsyncDisposable {
  readonly runId: string;
  readonly network: string;
  readonly nodes: SwarmNode[] = [];
  /** Host directory holding the manager engine's socket (docker.sock). */
  readonly managerSocketDir = mkdtempSync(join(tmpdir(), 'enclave-elect-swarm-'));

  constructor(runId = newRunId()) {
    this.runId = runId;
    this.network = `enclave-elect-${runId}-swarm`;
  }

  get manager(): SwarmNode {
    return this.nodes[0]!;
  }

  /** DOCKER_HOST for the manager's engine, from this host. */
  get managerEngine(): string {
    return `unix://${join(this.managerSocketDir, 'docker.sock')}`;
  }

  /** Start `count` engines and form a swarm: the first node manages, the rest join as workers. */
  async start(count: number): Promise<this> {
    await docker.createNetwork({
      Name: this.network,
      Driver: 'bridge',
      CheckDuplicate: true,
      Labels: testLabels(this.runId),
    });
    await Promise.all(Array.from({ length: count }, (_, i) => this.startNode(i + 1)));
    this.nodes.sort((a, b) => a.name.localeCompare(b.name));
    await Promise.all(this.nodes.map((node) => this.waitForEngine(node)));
    await this.exec(this.manager, ['docker', 'swarm', 'init', '--advertise-addr', this.manager.ip]);
    const token = (await this.exec(this.manager, ['docker', 'swarm', 'join-token', '-q', 'worker'])).trim();
    await Promise.all(
      this.nodes
        .slice(1)
        .map((node) =>
          this.exec(node, [
            'docker',
            'swarm',
            'join',
            '--advertise-addr',
            node.ip,
            '--token',
            token,
            `${this.manager.ip}:2377`,
          ]),
        ),
    );
    return this;
  }

  private async startNode(index: number): Promise<void> {
    const name = `enclave-elect-${this.runId}-node${index}`;
    const volume = `${name}-docker`;
    await docker.createVolume({ Name: volume, Labels: testLabels(this.runId) });
    const container = await docker.createContainer({
      name,
      Hostname: `node${index}`,
      Image: NODE_IMAGE,
      Entrypoint: ['sh', '-c', NODE_BOOT],
      Labels: testLabels(this.runId),
      HostConfig: {
        CapAdd: NODE_CAPABILITIES,
        SecurityOpt: ['seccomp=unconfined', 'apparmor=unconfined'],
        // The CLI's --security-opt systempaths=unconfined: nothing masked or read-only under /proc.
        MaskedPaths: [],
        ReadonlyPaths: [],
        DeviceCgroupRules: ['a *:* rwm'],
        Tmpfs: { '/run': '' },
        // overlay2 does not work on the container's own overlay filesystem; on a volume it does.
        Binds: [`${volume}:/var/lib/docker`, ...(index === 1 ? [`${this.managerSocketDir}:/engine`] : [])],
        NetworkMode: this.network,
      },
    });
    await container.start();
    const info = await container.inspect();
    const ip = info.NetworkSettings.Networks[this.network]?.IPAddress;
    if (!ip) throw new Error(`${name} has no address on ${this.network}`);
    this.nodes.push({ name, id: container.id, ip });
  }

  private async waitForEngine(node: SwarmNode, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if ((await run('docker', ['exec', node.name, 'docker', 'version'])).code === 0) return;
      await new Promise((r) => setTimeout(r, 300));
    }
    const log = await run('docker', ['exec', node.name, 'tail', '-20', '/var/log/dockerd.log']);
    throw new Error(`the engine in ${node.name} did not answer within ${timeoutMs} ms:\n${log.stdout}`);
  }

  /** Run a command inside a node (e.g. its docker CLI); rejects on a non-zero exit. */
  exec(node: SwarmNode, command: string[], stdin?: string): Promise<string> {
    return runOk('docker', ['exec', ...(stdin === undefined ? [] : ['-i']), node.name, ...command], stdin);
  }

  /**
   * Copy an image from the host engine into every node, pinned by id (tags on the
   * host move while other work runs), and tag it there. One `docker save` feeds
   * every node's `docker load`.
   */
  async loadImage(imageId: string, tag: string): Promise<void> {
    const save = spawn('docker', ['save', imageId], { stdio: ['ignore', 'pipe', 'pipe'] });
    const saved = new Promise<void>((resolve, reject) => {
      let stderr = '';
      save.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString('utf8');
      });
      save.on('error', reject);
      save.on('close', (code) =>
        code === 0 ? resolve() : reject(new Error(`docker save ${imageId} exited ${code}: ${stderr}`)),
      );
    });
    await Promise.all([
      saved,
      ...this.nodes.map(async (node) => {
        await runOk('docker', ['exec', '-i', node.name, 'docker', 'load', '--quiet'], save.stdout);
        await this.exec(node, ['docker', 'tag', imageId, tag]);
      }),
    ]);
  }

  /** SIGKILL the node's container: its engine and every task on it end at once. */
  async kill(node: SwarmNode): Promise<void> {
    await docker.getContainer(node.id).kill();
  }

  /** Drop everything on the node's link to the others (swarm control, VXLAN, gossip), both ways at once. */
  async cutOff(node: SwarmNode): Promise<void> {
    await this.exec(node, [
      'sh',
      '-c',
      'iptables -I INPUT -i eth0 -j DROP && iptables -I OUTPUT -o eth0 -j DROP',
    ]);
  }

  async heal(node: SwarmNode): Promise<void> {
    await this.exec(node, [
      'sh',
      '-c',
      'iptables -D INPUT -i eth0 -j DROP && iptables -D OUTPUT -o eth0 -j DROP',
    ]);
  }

  /** Remove every node container, volume and the network of this run (by label, so a failed start is swept too). */
  async dispose(): Promise<void> {
    await sweep(this.runId);
    rmSync(this.managerSocketDir, { recursive: true, force: true });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }
}
