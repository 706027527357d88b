// A whole `cluster chaos` session: optionally start a cluster of its own (and
// always remove it at the end), run the experiment, write the report files.
// Kept apart from the yargs layer so tests can drive it with options.

import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EnclaveElectError } from '../errors.ts';
import { armClocks } from '../orchestrator/clock-fault.ts';
import { requireCluster } from '../orchestrator/cluster-inventory.ts';
import { upCluster } from '../orchestrator/cluster-up.ts';
import type { DockerClient } from '../orchestrator/docker-client.ts';
import { type ClusterSelector, describeSelector, LABEL } from '../orchestrator/labels.ts';
import type { StatusReader } from '../orchestrator/peer-status.ts';
import { clusterLabel } from '../orchestrator/status-report.ts';
import { downCluster } from '../orchestrator/teardown.ts';
import { randomBytes } from '../platform/node-crypto.ts';
import { buildReport, type ChaosReport } from './report.ts';
import { renderReportHtml } from './report-html.ts';
import { type ChaosDocker, type ChaosProgress, runChaos } from './run-chaos.ts';
import type { FaultKind } from './schedule.ts';

export type SessionDocker = ChaosDocker &
  Pick<DockerClient, 'createContainer' | 'createVolume' | 'getImage' | 'listVolumes' | 'getVolume'>;

export interface SessionOptions {
  seed: string;
  durationMs: number;
  intervalMs: number;
  faults: FaultKind[];
  /** Start a cluster of this many peers (removed at the end); otherwise act on `selector`. */
  peers?: number;
  selector: ClusterSelector;
  image: string;
  leaseMs?: number;
  extraLabels: Record<string, string>;
  reportDir?: string;
  /** Keep a cluster this session started (for inspection). */
  keep?: boolean;
  /**
   * The demo: a cluster of its own also runs the fenced ledger, and every peer
   * the ledger writer while it leads; an existing cluster must have a ledger.
   */
  demo?: boolean;
}

export interface SessionContext {
  docker: SessionDocker;
  reader: StatusReader;
  progress: (state: ChaosProgress) => void;
  note: (line: string) => void;
  signal?: AbortSignal;
}

export function newChaosSeed(): string {
  return randomBytes(4).toString('hex');
}

/** The lease a cluster made by `up` was started with (its network's label), else the default 2 s. */
async function leaseOf(
  docker: Pick<DockerClient, 'listNetworks'>,
  selector: ClusterSelector,
): Promise<number> {
  if (selector.kind !== 'name') return 2000;
  const networks = await docker.listNetworks({
    filters: JSON.stringify({ label: [`${LABEL.cluster}=${selector.name}`, `${LABEL.role}=network`] }),
  });
  const raw = Number(networks[0]?.Labels?.[LABEL.leaseMs]);
  return Number.isFinite(raw) && raw > 0 ? raw : 2000;
}

/** `--demo` on a cluster that has no ledger would check nothing: say so before injecting anything. */
async function requireLedger(docker: SessionDocker, selector: ClusterSelector): Promise<void> {
  const containers = await requireCluster(docker, selector);
  if (containers.some((c) => c.role === 'ledger')) return;
  const start =
    selector.kind === 'name'
      ? `\`enclave-elect cluster up --demo --name ${selector.name}\``
      : '`docker compose --profile demo up --scale peer=0 --scale writer=5`';
  throw new EnclaveElectError(
    'E_USAGE',
    `--demo needs the demo's ledger, and ${describeSelector(selector)} has none: start the cluster with ${start}, or drop --demo`,
    { exitCode: 2 },
  );
}

export async function writeReport(dir: string, report: ChaosReport): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(join(dir, 'report.html'), renderReportHtml(report));
}

export async function runChaosSession(
  options: SessionOptions,
  context: SessionContext,
): Promise<ChaosReport> {
  const { docker } = context;
  const own = options.peers !== undefined;
  const selector = options.selector;
  if (own && selector.kind === 'name') {
    context.note(`starting cluster '${selector.name}' with ${options.peers} peers (${options.image})`);
    await upCluster(
      docker,
      {
        cluster: selector.name,
        image: options.image,
        policy: 'vrf',
        leaseMs: options.leaseMs ?? 2000,
        extraLabels: options.extraLabels,
        peers: options.peers!,
        ...(options.demo ? { demo: true } : {}),
        build: false,
        timeoutMs: 90_000,
      },
      {
        reader: context.reader,
        progress: context.note,
        ...(context.signal ? { signal: context.signal } : {}),
      },
    );
  }
  try {
    if (options.demo && !own) await requireLedger(docker, selector);
    if (options.faults.includes('clock')) {
      // Preloading libfaketime restarts a peer once: do it before the run checks the steady state, not under a fault.
      const armed = await armClocks(docker, selector, {
        progress: context.note,
        extraLabels: options.extraLabels,
      });
      if (armed.length > 0) context.note(`armed ${armed.join(', ')} for clock faults (restarted once each)`);
    }
    const leaseMs = options.leaseMs ?? (await leaseOf(docker, selector));
    const run = await runChaos(
      {
        seed: options.seed,
        durationMs: options.durationMs,
        intervalMs: options.intervalMs,
        faults: options.faults,
        selector,
        leaseMs,
        extraLabels: options.extraLabels,
      },
      {
        docker,
        reader: context.reader,
        progress: context.progress,
        note: context.note,
        ...(context.signal ? { signal: context.signal } : {}),
      },
    );
    const report = buildReport(run, {
      cluster: clusterLabel(selector),
      image: own ? options.image : null,
      durationMs: options.durationMs,
      intervalMs: options.intervalMs,
      faults: options.faults,
    });
    if (options.reportDir) await writeReport(options.reportDir, report);
    return report;
  } finally {
    if (own && selector.kind === 'name' && !options.keep) {
      const removed = await downCluster(docker, selector.name, () => undefined);
      context.note(
        `removed cluster '${selector.name}' (${removed.containers.length} containers, ${removed.networks.length} networks, ${removed.volumes.length} volumes)`,
      );
    }
  }
}
