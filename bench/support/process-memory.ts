// What one node process holds, read from the host: VmRSS from /proc (split into
// anonymous and file-backed pages), CPU time used, the V8
// heap from Node's diagnostic report (written on SIGUSR2 when the process runs
// with REPORT_NODE_OPTIONS), and its start-up time from its first log event.
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { sleep } from './waiting.ts';

/** Node flags that make a process write its diagnostic report to /tmp on SIGUSR2. */
export const REPORT_NODE_OPTIONS = '--report-on-signal --report-signal=SIGUSR2 --report-directory=/tmp';

export interface ProcessMemory {
  rssMb: number;
  /** Of the RSS: anonymous pages (V8 heap, malloc arenas, stacks) and the rest (file-backed: mostly the node binary's code and data). */
  anonMb: number;
  fileMb: number;
  heapUsedMb: number | null;
  heapTotalMb: number | null;
}

const mb = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;

export function vmRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = /^VmRSS:\s+(\d+) kB/m.exec(status);
  if (!kb) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Math.round((Number(kb[1]) / 1024) * 10) / 10;
}

/** VmRSS split as /proc/PID/smaps_rollup sees it: anonymous against file-backed pages. */
export function rssSplitMb(pid: number): Pick<ProcessMemory, 'anonMb' | 'fileMb'> {
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const kb = (field: string) => {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(rollup);
    if (!match) throw new Error(`no ${field} in /proc/${pid}/smaps_rollup`);
    return Number(match[1]);
  };
  const anon = kb('Anonymous');
  return { anonMb: mb(anon * 1024), fileMb: mb((kb('Rss') - anon) * 1024) };
}

/** CPU time (user + system) the process has used since it started, in ms. */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces), from field 3 on: utime is 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return Math.round((ticks * 1000) / CLOCK_TICKS_PER_SECOND);
}

/** USER_HZ: 100 on every Linux the project runs on (x86-64 and arm64 kernels fix it). */
const CLOCK_TICKS_PER_SECOND = 100;

/** The first child of `pid` (a container's node process under docker-init), else `pid` itself. */
export function nodeProcessOf(pid: number): number {
  const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/);
  return children[0] ? Number(children[0]) : pid;
}

/**
 * Ask `pid` for its diagnostic report and read the V8 heap from it. `tmpDir` is
 * where the process writes it as the host sees it (for a container:
 * /proc/PID/root/tmp). Null when the process does not write reports.
 */
export async function heapOf(
  pid: number,
  tmpDir: string,
): Promise<Pick<ProcessMemory, 'heapUsedMb' | 'heapTotalMb'>> {
  const reports = () => readdirSync(tmpDir).filter((f) => f.startsWith('report.') && f.endsWith('.json'));
  for (const old of reports()) rmSync(join(tmpDir, old), { force: true });
  process.kill(pid, 'SIGUSR2');
  for (let waited = 0; waited < 5000; waited += 50) {
    const [file] = reports();
    if (file && existsSync(join(tmpDir, file))) {
      try {
        const report = JSON.parse(readFileSync(join(tmpDir, file), 'utf8')) as {
          javascriptHeap: { usedMemory: number; totalMemory: number };
        };
        return {
          heapUsedMb: mb(report.javascriptHeap.usedMemory),
          heapTotalMb: mb(report.javascriptHeap.totalMemory),
        };
      } catch {
        // Still being written: read it again shortly.
      }
    }
    await sleep(50);
  }
  return { heapUsedMb: null, heapTotalMb: null };
}

/** Milliseconds from `startedAtMs` to the first JSON log line with `event`, or null. */
export function startupMs(logText: string, event: string, startedAtMs: number): number | null {
  for (const line of logText.split('\n')) {
    if (!line.includes(`"event":"${event}"`)) continue;
    const time = (JSON.parse(line) as { time?: string | number }).time;
    return time === undefined ? null : new Date(time).getTime() - startedAtMs;
  }
  return null;
}
