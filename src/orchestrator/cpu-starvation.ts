// CPU starvation of one container: its cgroup's CFS quota lowered (`docker
// update --cpu-quota`), so the kernel throttles it and its timers fire late.
// This is what a CPU limit under a noisy neighbour does to a pod or a task. The
// quota it had before is put back on `--for` expiry or on --clear (a container
// `cluster up` made has none).
import { setTimeout as sleep } from 'node:timers/promises';
import { EnclaveElectError, UsageError } from '../errors.ts';
import { requireCluster } from './cluster-inventory.ts';
import { type DockerClient, dockerMessage } from './docker-client.ts';
import type { ClusterSelector } from './labels.ts';
import type { StatusReader } from './peer-status.ts';
import { resolveTarget } from './targets.ts';

/** CFS period: 100 ms, the kernel's default, so a 5% quota is 5 ms of CPU per 100 ms. */
export const CPU_PERIOD_US = 100_000;

/** `5%` of one CPU -> CFS quota in µs per period; at least 1 ms (the kernel's minimum). */
export function quotaFor(sharePercent: number): number {
  if (!(sharePercent > 0 && sharePercent <= 100)) {
    throw new UsageError(`--share must be more than 0% and at most 100% of one CPU (example: --share 5%)`);
  }
  return Math.max(1000, Math.round((CPU_PERIOD_US * sharePercent) / 100));
}

export interface CpuStarvationResult {
  target: string;
  container: string;
  /** The quota set (µs per 100 ms period), and the one it had before (0: unlimited). */
  quotaUs: number;
  previousQuotaUs: number;
  restored: boolean;
}

type Docker = Pick<DockerClient, 'listContainers' | 'getContainer'>;

export async function starveCpu(
  docker: Docker,
  selector: ClusterSelector,
  request: { target: string; sharePercent: number | null; forMs?: number },
  context: { reader: StatusReader; progress: (line: string) => void; signal?: AbortSignal },
): Promise<CpuStarvationResult> {
  const containers = await requireCluster(docker, selector);
  const { container: target } = await resolveTarget(containers, request.target, { reader: context.reader });
  const container = docker.getContainer(target.id);
  const info = await container.inspect();
  const previousQuotaUs = Math.max(0, info.HostConfig.CpuQuota ?? 0);
  const quotaUs = request.sharePercent === null ? 0 : quotaFor(request.sharePercent);
  const set = async (quota: number, period: number) => {
    try {
      await container.update({ CpuQuota: quota, CpuPeriod: period });
    } catch (error) {
      throw new EnclaveElectError(
        'E_DOCKER',
        `setting the CPU quota of ${target.name} failed: ${dockerMessage(error)}`,
        {
          cause: error,
        },
      );
    }
  };
  // The engine reads a quota of 0 as "leave as it is"; -1 is the kernel's "no limit".
  const UNLIMITED = -1;
  await set(quotaUs === 0 ? UNLIMITED : quotaUs, quotaUs === 0 ? 0 : CPU_PERIOD_US);
  context.progress(
    quotaUs === 0
      ? `${target.name}: CPU quota removed`
      : `${target.name}: ${request.sharePercent}% of one CPU (${quotaUs} µs per ${CPU_PERIOD_US} µs)`,
  );
  let restored = false;
  if (request.forMs !== undefined) {
    await sleep(request.forMs, undefined, { signal: context.signal }).catch(() => undefined);
    await set(
      previousQuotaUs > 0 ? previousQuotaUs : UNLIMITED,
      previousQuotaUs > 0 ? (info.HostConfig.CpuPeriod ?? CPU_PERIOD_US) : 0,
    );
    restored = true;
    context.progress(
      `${target.name}: CPU quota back to ${previousQuotaUs === 0 ? 'unlimited' : `${previousQuotaUs} µs`}`,
    );
  }
  return { target: target.name, container: target.container, quotaUs, previousQuotaUs, restored };
}
