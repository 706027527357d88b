// Waiting for a cluster to agree: poll every peer's /status until the
// expected number of peers run, all answer, and all name the same verified
// leader and epoch. Progress goes to the callback each time the picture changes.
import { setTimeout as sleep } from 'node:timers/promises';
import { EnclaveElectError } from '../errors.ts';
import type { DockerClient } from './docker-client.ts';
import { formatDuration } from './duration.ts';
import type { ClusterSelector } from './labels.ts';
import type { StatusReader } from './peer-status.ts';
import { agreementOf, type ClusterStatusReport, collectClusterStatus, summaryLine } from './status-report.ts';

export interface WaitOptions {
  expectPeers: number;
  timeoutMs: number;
  reader: StatusReader;
  progress: (line: string) => void;
  intervalMs?: number;
  now?: () => number;
  hint?: string;
  /** Ctrl-C: stop waiting (E_INTERRUPTED, exit 130); the cluster keeps running. */
  signal?: AbortSignal;
}

export function converged(report: ClusterStatusReport, expectPeers: number): boolean {
  const a = agreementOf(report.peers);
  return a.agreed && a.running === expectPeers && a.answering === expectPeers;
}

export async function waitForAgreement(
  docker: Pick<DockerClient, 'listContainers'>,
  selector: ClusterSelector,
  options: WaitOptions,
): Promise<ClusterStatusReport> {
  const now = options.now ?? Date.now;
  const started = now();
  let last = '';
  for (;;) {
    const report = await collectClusterStatus(docker, selector, options.reader);
    const line = summaryLine(report.peers);
    if (line !== last) options.progress(`[${formatDuration(now() - started)}] ${line}`);
    last = line;
    if (converged(report, options.expectPeers)) return report;
    if (options.signal?.aborted) {
      throw new EnclaveElectError(
        'E_INTERRUPTED',
        `stopped waiting for agreement: ${line}\n${options.hint ?? ''}`.trim(),
        {
          exitCode: 130,
        },
      );
    }
    if (now() - started >= options.timeoutMs) {
      const detail = report.peers
        .filter((p) => p.error !== null || !p.status?.leader)
        .map((p) => `  ${p.name}: ${p.error ?? 'no verified leader yet'}`);
      throw new EnclaveElectError(
        'E_TIMEOUT',
        [
          `the cluster did not agree on a leader within ${formatDuration(options.timeoutMs)} (expected ${options.expectPeers} peers): ${line}`,
          ...detail,
          options.hint ?? '',
        ]
          .filter(Boolean)
          .join('\n'),
      );
    }
    await sleep(options.intervalMs ?? 500, undefined, { signal: options.signal }).catch(() => undefined);
  }
}
