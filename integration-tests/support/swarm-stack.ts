// deploy/swarm/stack.yml deployed on a SwarmNodes swarm, the way its README says:
// create-secrets.sh on the manager, node labels, `docker stack deploy`. The test
// reads peers through a probe container on the stack's attachable overlay
// network (the peers publish no port), and their events from every node's
// task containers (so a peer whose node was killed is still heard from).
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { eventFromLogLine, type HistoryEvent } from '../../src/chaos/history.ts';
import type { PeerStatus } from '../../src/orchestrator/peer-status.ts';
import { PROJECT_ROOT } from './image.ts';
import type { SwarmNode, SwarmNodes } from './swarm-nodes.ts';

export const STACK = 'ee';
const PEER_SERVICE = `${STACK}_peer`;
const PROBE = 'enclave-elect-probe';
const PROBE_PORT = 9000;
/** The tag the stack's default image names; every node has the pinned image under it. */
export const STACK_IMAGE_TAG = 'enclave-elect:local';

// Runs in the probe: resolve every peer task, read each one's /status.
const PROBE_SCRIPT = `
const http = require('node:http');
const dns = require('node:dns').promises;
http.createServer(async (req, res) => {
  let ips = [];
  try { ips = await dns.resolve4('tasks.peer'); } catch {}
  const out = await Promise.all(ips.map(async (ip) => {
    try {
      const r = await fetch('http://' + ip + ':7947/status', { signal: AbortSignal.timeout(700) });
      return { ip, status: await r.json() };
    } catch (e) { return { ip, error: String(e?.cause?.code ?? e?.name ?? e) }; }
  }));
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify(out));
}).listen(${PROBE_PORT});
`;

export interface PeerReading {
  ip: string;
  status?: PeerStatus;
  error?: string;
}

export interface PeerTask {
  taskId: string;
  /** The member name: peer-<slot>-<task id> (the stack's hostname template). */
  name: string;
  node: string;
  desired: string;
  current: string;
}

export class SwarmStack {
  private readonly swarm: SwarmNodes;

  constructor(swarm: SwarmNodes) {
    this.swarm = swarm;
  }

  /**
   * Secrets from create-secrets.sh, the enclave pinned to the manager (which runs
   * no peer), the stack deployed, and a probe started on its network.
   */
  async deploy(): Promise<void> {
    const manager = this.swarm.manager;
    for (const file of ['swarm/stack.yml', 'create-secrets.sh']) {
      const text = readFileSync(join(PROJECT_ROOT, 'deploy', file), 'utf8');
      await this.swarm.exec(manager, ['sh', '-c', `cat > /${basename(file)}`], text);
    }
    await this.swarm.exec(manager, ['bash', '/create-secrets.sh', 'swarm', '--image', STACK_IMAGE_TAG]);
    await this.swarm.exec(manager, [
      'docker',
      'node',
      'update',
      '--label-add',
      'enclave-elect.enclave=true',
      '--label-add',
      'enclave-elect.peers=false',
      nodeHostname(manager),
    ]);
    await this.swarm.exec(manager, [
      'docker',
      'stack',
      'deploy',
      '--resolve-image',
      'never',
      '--compose-file',
      '/stack.yml',
      STACK,
    ]);
    await this.swarm.exec(manager, [
      'docker',
      'run',
      '--detach',
      '--name',
      PROBE,
      '--network',
      `${STACK}_cluster`,
      '--publish',
      `${PROBE_PORT}:${PROBE_PORT}`,
      '--entrypoint',
      'node',
      STACK_IMAGE_TAG,
      '-e',
      PROBE_SCRIPT,
    ]);
  }

  /** Every peer task's /status, as the probe reads them; [] while the probe is not up yet. */
  async readPeers(): Promise<PeerReading[]> {
    try {
      const response = await fetch(`http://${this.swarm.manager.ip}:${PROBE_PORT}/`, {
        signal: AbortSignal.timeout(3000),
      });
      return (await response.json()) as PeerReading[];
    } catch {
      return [];
    }
  }

  /** The peer service's tasks, from the manager's view. */
  async tasks(): Promise<PeerTask[]> {
    const out = await this.swarm.exec(this.swarm.manager, [
      'docker',
      'service',
      'ps',
      '--no-trunc',
      '--format',
      '{{.ID}}|{{.Name}}|{{.Node}}|{{.DesiredState}}|{{.CurrentState}}',
      PEER_SERVICE,
    ]);
    return out
      .trim()
      .split('\n')
      .filter((line) => line.includes('|'))
      .map((line) => {
        const [taskId = '', taskName = '', node = '', desired = '', current = ''] = line.split('|');
        const slot = taskName.split('.')[1] ?? '';
        return { taskId, name: `peer-${slot}-${taskId}`, node, desired, current };
      });
  }

  /** Tasks the swarm wants running, by node hostname. */
  async runningByNode(): Promise<Map<string, PeerTask[]>> {
    const byNode = new Map<string, PeerTask[]>();
    for (const task of await this.tasks()) {
      if (task.desired !== 'Running' || !task.current.startsWith('Running')) continue;
      byNode.set(task.node, [...(byNode.get(task.node) ?? []), task]);
    }
    return byNode;
  }

  /** Every event every peer container on the reachable nodes has logged so far. */
  async events(nodes: SwarmNode[]): Promise<HistoryEvent[]> {
    const dumps = await Promise.all(
      nodes.map((node) =>
        this.swarm
          .exec(node, [
            'sh',
            '-c',
            `for c in $(docker ps -aq --filter label=com.docker.swarm.service.name=${PEER_SERVICE}); do docker logs "$c" 2>/dev/null; done`,
          ])
          .catch(() => ''),
      ),
    );
    const events: HistoryEvent[] = [];
    for (const line of dumps.join('\n').split('\n')) {
      const event = eventFromLogLine(line, 'unknown', 0);
      if (event) events.push(event);
    }
    return events;
  }
}

/** A node container's hostname inside the swarm (node1, node2, ...). */
export function nodeHostname(node: SwarmNode): string {
  return node.name.slice(node.name.lastIndexOf('-') + 1);
}
