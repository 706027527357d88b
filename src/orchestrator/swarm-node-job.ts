// Engine calls on one node of a swarm, through the manager's engine API alone.
// A task's container is on its node's engine, which the manager's API does not
// reach; so the manager schedules a one-shot job on that node (the stack's own
// image, the node's engine socket mounted) that runs a short list of steps
// against that engine, prints one JSON document and exits. The orchestrator
// reads the document back from the job's service logs, then removes the job.
// Mounting the socket gives the job root on that node: no more than whoever
// may create services on the swarm already has.

import { setTimeout as sleep } from 'node:timers/promises';
import type Docker from 'dockerode';
import { EnclaveElectError } from '../errors.ts';
import { randomBytes } from '../platform/node-crypto.ts';
import type { DockerClient } from './docker-client.ts';
import { dockerMessage } from './docker-client.ts';
import { demultiplex } from './docker-stream.ts';
import { LABEL } from './labels.ts';
import type { SwarmClient } from './swarm-tasks.ts';

/** One engine operation on the node, run in order by the job. */
export type NodeStep =
  /** One raw engine call; its status and the start of its body come back. */
  | { op: 'call'; method: string; path: string }
  /** `docker exec` in a container: exit code and output. */
  | { op: 'exec'; container: string; cmd: string[] }
  /**
   * Create and start a container from `create` (an engine create body). With
   * `readyText`, wait until its stderr says so and leave it running; else wait
   * for its end, return its output, and remove it.
   */
  | { op: 'run'; create: Record<string, unknown>; readyText?: string }
  /** Stop (5 s grace) and remove every container with all these labels; their ids and labels come back. */
  | { op: 'remove'; labels: string[] }
  /** Whether an image is present on the node; with `require`, fail when it is not. */
  | { op: 'image'; name: string; require?: boolean }
  /**
   * `remove`, then in each network namespace a removed container shared (its
   * `targetLabel`), run `create` with `clear`, then `show`: what is left there.
   */
  | { op: 'sweep'; labels: string[]; targetLabel: string; create: Record<string, unknown> };

export interface NodeStepResult {
  /** When the step finished, on the node's clock (ISO). */
  at: string;
  /** When it began. */
  startedAt?: string;
  status?: number;
  body?: string;
  exitCode?: number;
  stdout?: string;
  stderr?: string;
  id?: string;
  removed?: { id: string; labels: Record<string, string> }[];
  present?: boolean;
  /** sweep: per namespace still running, `show`'s exit code (0: nothing left) and its words. */
  swept?: { target: string; exitCode: number; stdout: string }[];
  /** sweep: when the helpers were gone (their rules with them), before the namespaces were checked. */
  removedAt?: string;
}

// Runs in the job: argv[1] = the steps as JSON. Plain CommonJS for `node -e`.
// ENGINE_SOCKET moves the engine socket (the unit tests' fake engine).
export const NODE_AGENT_SCRIPT = `
const http = require('node:http');
const call = (method, path, body) => new Promise((resolve, reject) => {
  const data = body === undefined ? undefined : JSON.stringify(body);
  const headers = data === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) };
  const req = http.request({ socketPath: process.env.ENGINE_SOCKET || '/var/run/docker.sock', method, path, headers }, (res) => {
    const chunks = [];
    res.on('data', (c) => chunks.push(c));
    res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks) }));
  });
  req.on('error', reject);
  req.end(data);
});
const ok = async (method, path, body) => {
  const r = await call(method, path, body);
  if (r.status >= 300) throw new Error(method + ' ' + path.split('?')[0] + ': HTTP ' + r.status + ' ' + r.body.toString().trim().slice(0, 300));
  return r.body.length > 0 && (r.body[0] === 0x7b || r.body[0] === 0x5b) ? JSON.parse(r.body.toString()) : r.body;
};
const demux = (buf) => {
  const out = { stdout: '', stderr: '' };
  for (let i = 0; i + 8 <= buf.length; ) {
    const len = buf.readUInt32BE(i + 4);
    out[buf[i] === 2 ? 'stderr' : 'stdout'] += buf.subarray(i + 8, i + 8 + len).toString();
    i += 8 + len;
  }
  return out;
};
const logs = async (id) => demux(await ok('GET', '/containers/' + id + '/logs?stdout=1&stderr=1'));
const ops = {
  async call(s) { const r = await call(s.method, s.path); return { status: r.status, body: r.body.toString().slice(0, 300) }; },
  async exec(s) {
    const { Id } = await ok('POST', '/containers/' + s.container + '/exec', { Cmd: s.cmd, AttachStdout: true, AttachStderr: true });
    const out = demux((await call('POST', '/exec/' + Id + '/start', { Detach: false, Tty: false })).body);
    return { exitCode: (await ok('GET', '/exec/' + Id + '/json')).ExitCode, ...out };
  },
  async run(s) {
    const { Id } = await ok('POST', '/containers/create', s.create);
    try {
      await ok('POST', '/containers/' + Id + '/start');
      if (s.readyText !== undefined) {
        for (const deadline = Date.now() + 20000; ; await new Promise((r) => setTimeout(r, 100))) {
          const out = await logs(Id);
          if (out.stderr.includes(s.readyText)) return { id: Id };
          const state = (await ok('GET', '/containers/' + Id + '/json')).State;
          if (!state.Running || Date.now() > deadline) throw new Error('container ' + (state.Running ? 'not ready in time' : 'exited ' + state.ExitCode) + ': ' + out.stderr.trim().slice(-300));
        }
      }
      const { StatusCode } = await ok('POST', '/containers/' + Id + '/wait');
      return { exitCode: StatusCode, ...(await logs(Id)) };
    } catch (e) {
      await call('DELETE', '/containers/' + Id + '?force=1');
      throw e;
    } finally {
      if (s.readyText === undefined) await call('DELETE', '/containers/' + Id + '?force=1');
    }
  },
  async remove(s) {
    const filters = encodeURIComponent(JSON.stringify({ label: s.labels }));
    const found = await ok('GET', '/containers/json?all=1&filters=' + filters);
    for (const c of found) {
      if (c.State === 'running') await call('POST', '/containers/' + c.Id + '/stop?t=5');
      await ok('DELETE', '/containers/' + c.Id + '?force=1');
    }
    return { removed: found.map((c) => ({ id: c.Id, labels: c.Labels })) };
  },
  async image(s) {
    const present = (await call('GET', '/images/' + encodeURIComponent(s.name) + '/json')).status === 200;
    if (!present && s.require) throw new Error('no image ' + s.name + ' on this node');
    return { present };
  },
  async sweep(s) {
    const { removed } = await ops.remove(s);
    const removedAt = new Date().toISOString();
    const swept = [];
    for (const target of [...new Set(removed.map((r) => r.labels[s.targetLabel]))]) {
      const info = await call('GET', '/containers/' + target + '/json');
      if (info.status !== 200 || !JSON.parse(info.body.toString()).State.Running) continue;
      const netns = { ...s.create, HostConfig: { ...s.create.HostConfig, NetworkMode: 'container:' + target } };
      await ops.run({ create: { ...netns, Cmd: ['clear'] } });
      const shown = await ops.run({ create: { ...netns, Cmd: ['show'] } });
      swept.push({ target, exitCode: shown.exitCode, stdout: shown.stdout.trim() });
    }
    return { removed, removedAt, swept };
  },
};
(async () => {
  const results = [];
  try {
    for (const step of JSON.parse(process.argv[1])) {
      const startedAt = new Date().toISOString();
      results.push({ ...(await ops[step.op](step)), startedAt, at: new Date().toISOString() });
    }
    console.log(JSON.stringify({ results }));
  } catch (e) {
    console.log(JSON.stringify({ results, error: String(e && e.message || e) }));
    process.exitCode = 1;
  }
})();
`;

export type NodeJobClient = SwarmClient & Pick<DockerClient, 'createService'>;

export interface NodeJob {
  /** The node's swarm id, and its hostname for messages. */
  nodeId: string;
  node: string;
  /** An image with node that every node has: the stack's own. */
  image: string;
  steps: NodeStep[];
}

export interface NodeJobOptions {
  /** How long the job may take to be scheduled and finish (default 60 s). */
  timeoutMs?: number;
  pollMs?: number;
}

/** The job service that runs `steps` on the node: a replicated job of one, pinned by node id, root, the socket mounted. */
export function nodeJobSpec(name: string, job: NodeJob): Docker.CreateServiceOptions {
  return {
    Name: name,
    Labels: { [LABEL.managed]: 'true' },
    TaskTemplate: {
      ContainerSpec: {
        Image: job.image,
        Command: ['node', '-e', NODE_AGENT_SCRIPT, JSON.stringify(job.steps)],
        User: '0',
        Mounts: [{ Type: 'bind' as const, Source: '/var/run/docker.sock', Target: '/var/run/docker.sock' }],
      },
      Placement: { Constraints: [`node.id==${job.nodeId}`] },
      RestartPolicy: { Condition: 'none' },
    },
    Mode: { ReplicatedJob: { MaxConcurrent: 1, TotalCompletions: 1 } },
  };
}

/** The agent's JSON document out of the job's (multiplexed) service log. */
export function parseAgentOutput(raw: Buffer | string): { results: NodeStepResult[]; error?: string } | null {
  const text = typeof raw === 'string' ? raw : demultiplex(raw).stdout;
  const line = text
    .split('\n')
    .map((l) => l.trim())
    .reverse()
    .find((l) => l.startsWith('{"results"'));
  if (line === undefined) return null;
  try {
    return JSON.parse(line) as { results: NodeStepResult[]; error?: string };
  } catch {
    return null;
  }
}

type JobService = Awaited<ReturnType<DockerClient['createService']>>;

async function serviceOutput(service: JobService) {
  try {
    const raw = (await service.logs({ stdout: true, stderr: true, follow: false })) as unknown as Buffer;
    return parseAgentOutput(Buffer.isBuffer(raw) ? raw : Buffer.from(String(raw)));
  } catch {
    return null;
  }
}

/** Run the steps on the node; one result per step, or E_DOCKER naming the node, the step and the engine's answer. */
export async function runNodeJob(
  docker: NodeJobClient,
  job: NodeJob,
  options: NodeJobOptions = {},
): Promise<NodeStepResult[]> {
  const name = `enclave-elect-job-${randomBytes(4).toString('hex')}`;
  let service: JobService;
  try {
    service = await docker.createService(nodeJobSpec(name, job));
  } catch (error) {
    throw new EnclaveElectError(
      'E_DOCKER',
      `cannot schedule a job on ${job.node}: ${dockerMessage(error)} (job services need engine API 1.41)`,
      { cause: error },
    );
  }
  try {
    const deadline = Date.now() + (options.timeoutMs ?? 60_000);
    while (Date.now() < deadline) {
      const [task] = (await docker.listTasks({ filters: JSON.stringify({ service: [name] }) })) as {
        Status?: { State?: string; Err?: string };
      }[];
      const state = task?.Status?.State;
      if (state === 'complete' || state === 'failed' || state === 'rejected') {
        // The log can lag the task state by a moment.
        let output = await serviceOutput(service);
        for (let i = 0; output === null && i < 10; i += 1) {
          await sleep(200);
          output = await serviceOutput(service);
        }
        if (state === 'complete' && output !== null && output.error === undefined) {
          if (output.results.length === job.steps.length) return output.results;
        }
        const step = job.steps[output?.results.length ?? 0];
        const what = step === undefined ? '' : ` at step ${(output?.results.length ?? 0) + 1} (${step.op})`;
        throw new EnclaveElectError(
          'E_DOCKER',
          `the job on ${job.node} ${state}${what}: ${output?.error ?? task?.Status?.Err ?? 'no output'}`,
        );
      }
      await sleep(options.pollMs ?? 250);
    }
    throw new EnclaveElectError(
      'E_TIMEOUT',
      `the job on ${job.node} did not finish within ${(options.timeoutMs ?? 60_000) / 1000} s (\`docker node ls\`: a drained or paused node starts no task)`,
    );
  } finally {
    await service.remove().catch(() => undefined);
  }
}
