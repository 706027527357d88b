// `cluster net`: network faults on one container of a cluster, in the kernel's
// data path of its own network namespace: a fault helper joins that namespace
// and applies loss (iptables statistic), bursty loss, delay, jitter,
// duplication, corruption and reordering (netem where the kernel has it, else
// an NFQUEUE shaper) and a rate limit (TBF). Applying replaces the target's
// earlier net fault; clearing stops the helpers, sweeps what a killed helper
// may have left, and proves nothing of ours is left in the namespace.
import { EnclaveElectError } from '../errors.ts';
import { requireCluster } from './cluster-inventory.ts';
import type { DockerClient } from './docker-client.ts';
import { ensureHelperImage, type HelperRun, runHelper, startHelper, stopHelpers } from './fault-helper.ts';
import type { ClusterSelector } from './labels.ts';
import { describeNetFault, helperArgs, type NetFaultSpec, validateNetFault } from './net-fault-spec.ts';
import type { StatusReader } from './peer-status.ts';
import type { ImageBuilder } from './project-image.ts';
import { resolveTarget } from './targets.ts';

type Docker = Pick<DockerClient, 'getImage' | 'createContainer' | 'getContainer' | 'listContainers'>;

export interface NetFaultContext {
  reader: StatusReader;
  progress: (line: string) => void;
  extraLabels?: Record<string, string>;
  builder?: ImageBuilder;
}

export interface NetFaultResult {
  target: string;
  container: string;
  how: string;
  fault: string;
  /** How delay and friends are applied here: netem, or nfqueue on kernels without it; none when only loss/rate. */
  shaping: 'netem' | 'nfqueue' | 'none';
  helper: string;
  spec: NetFaultSpec;
}

export interface NetClearResult {
  targets: string[];
  /** Helper containers stopped and removed. */
  helpers: string[];
  /** Per target: what the sweep found left after the helpers stopped (empty when clean). */
  left: Record<string, string[]>;
}

export async function applyNetFault(
  docker: Docker,
  selector: ClusterSelector,
  request: { target: string; spec: NetFaultSpec; seed?: string },
  context: NetFaultContext,
): Promise<NetFaultResult> {
  validateNetFault(request.spec);
  const containers = await requireCluster(docker, selector);
  const { container: target, how } = await resolveTarget(containers, request.target, {
    reader: context.reader,
    ...(request.seed === undefined ? {} : { seed: request.seed }),
  });
  if (target.state !== 'running') {
    throw new EnclaveElectError(
      'E_STATE',
      `cannot change the network of ${target.name}: it is ${target.state}, and a network fault needs it running`,
    );
  }
  const image = await ensureHelperImage(docker, context.progress, context.builder);
  const replaced = await stopHelpers(docker, target.id, 'net');
  if (replaced.length > 0) context.progress(`replaced the earlier net fault on ${target.name}`);
  const fault = describeNetFault(request.spec);
  const run: HelperRun = {
    image,
    target: target.id,
    cmd: ['apply', ...helperArgs(request.spec)],
    kind: 'net',
    describe: fault,
    labels: context.extraLabels ?? {},
    autoRemove: false,
  };
  const { id, ready } = await startHelper(docker, run);
  const shaping = /shaping: (netem|nfqueue)/.exec(ready)?.[1] ?? 'none';
  context.progress(`${target.name}: ${fault} (shaping: ${shaping}; helper ${id.slice(0, 12)})`);
  return {
    target: target.name,
    container: target.container,
    how,
    fault,
    shaping: shaping as NetFaultResult['shaping'],
    helper: id.slice(0, 12),
    spec: request.spec,
  };
}

/** `left` lines from the helper's `clear` (it prints `clean` when nothing of ours is left). */
function leftovers(stdout: string): string[] {
  return stdout
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && line !== 'clean');
}

/** Clear the net faults of one target, or of every running container of the cluster (`all`). */
export async function clearNetFaults(
  docker: Docker,
  selector: ClusterSelector,
  target: string,
  context: NetFaultContext,
): Promise<NetClearResult> {
  const containers = await requireCluster(docker, selector);
  const targets =
    target === 'all'
      ? containers.filter((c) => c.role === 'peer' || c.role === 'enclave')
      : [(await resolveTarget(containers, target, { reader: context.reader })).container];
  const result: NetClearResult = { targets: [], helpers: [], left: {} };
  const image = await ensureHelperImage(docker, context.progress, context.builder);
  for (const container of targets) {
    result.helpers.push(...(await stopHelpers(docker, container.id, 'net')));
    result.targets.push(container.name);
    // A stopped container has no namespace to sweep; its next start gets a fresh one.
    if (container.state !== 'running') continue;
    const swept = await runHelper(docker, {
      image,
      target: container.id,
      cmd: ['clear'],
      kind: 'net',
      describe: 'clear',
      labels: context.extraLabels ?? {},
    });
    const left = leftovers(swept.stdout);
    if (swept.exitCode !== 0 || left.length > 0) {
      result.left[container.name] =
        left.length > 0 ? left : [swept.stderr.trim() || `exit ${swept.exitCode}`];
    }
  }
  const dirty = Object.entries(result.left);
  if (dirty.length > 0) {
    throw new EnclaveElectError(
      'E_UNPROVEN',
      `net faults cleared, but some are still in place: ${dirty.map(([name, left]) => `${name}: ${left.join('; ')}`).join(' | ')}`,
    );
  }
  context.progress(
    `cleared ${result.targets.join(', ')}: ${result.helpers.length} helper(s) removed; no qdisc or iptables rule of ours left`,
  );
  return result;
}
