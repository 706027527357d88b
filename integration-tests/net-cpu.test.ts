// `enclave-elect cluster cpu` against the real engine: a stand-in peer
// (support/net-standin.ts) under a CPU quota gets through less work on
// time. It measures how many 10 ms ticks of 4 ms work each it completes in
// 3 s, as a peer's timers would. After the quota goes back, the ticks come
// back too. A host-wide hog (`--host`) takes the CPUs its quota allows and no
// more, and is gone after --clear or --for.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { execInContainer } from '../src/orchestrator/container-exec.ts';
import { ensureHelperImage } from '../src/orchestrator/fault-helper.ts';
import { HOG_OF_LABEL } from '../src/orchestrator/host-cpu-hog.ts';
import { runBinary } from '../test/support/run-cli.ts';
import { docker, newRunId, sweep, TEST_LABEL } from './support/docker.ts';
import { type NetStandin, startNetStandin } from './support/net-standin.ts';

const TICKS = [
  'let n=0;const end=performance.now()+3000;',
  'const t=setInterval(()=>{const s=performance.now();while(performance.now()-s<4){}n++;',
  'if(performance.now()>end){clearInterval(t);process.stdout.write(String(n))}},10);',
].join('');

describe('cluster cpu: a peer starved of CPU', { timeout: 300_000 }, () => {
  const runId = newRunId();
  let standin: NetStandin;
  const cli = (...args: string[]) =>
    runBinary(['cluster', ...args, '--name', standin.cluster], {
      ENCLAVE_ELECT_EXTRA_LABELS: `${TEST_LABEL}=${runId}`,
    });
  const ticks = async () =>
    Number((await execInContainer(docker, standin.ids['peer-1']!, ['node', '-e', TICKS], 60_000)).stdout);

  before(async () => {
    const image = await ensureHelperImage(docker, (line) => process.stderr.write(`${line}\n`));
    standin = await startNetStandin(runId, image, 1);
  });

  after(async () => {
    await sweep(runId);
  });

  it('completes far fewer timer ticks under a 5% quota, and all of them again after --clear', async () => {
    const free = await ticks();
    const starved = await cli('cpu', 'peer-1', '--share', '5%', '--json');
    assert.equal(starved.code, 0, starved.stderr);
    const result = JSON.parse(starved.stdout);
    assert.deepEqual([result.quotaUs, result.previousQuotaUs], [5_000, 0]);
    const throttled = await ticks();
    const cleared = await cli('cpu', 'peer-1', '--clear');
    assert.equal(cleared.code, 0, cleared.stderr);
    const again = await ticks();
    // Each tick needs 4 ms of CPU per 10 ms (40%); 5% allows about an eighth of them.
    assert.ok(throttled < free * 0.5, `ticks: ${free} free, ${throttled} starved`);
    assert.ok(again > free * 0.8, `ticks: ${free} free, ${again} after --clear`);
    const info = await docker.getContainer(standin.ids['peer-1']!).inspect();
    assert.ok((info.HostConfig.CpuQuota ?? 0) <= 0, `quota left: ${info.HostConfig.CpuQuota}`);
  });

  const hogs = async () =>
    docker.listContainers({
      filters: JSON.stringify({ label: [`${HOG_OF_LABEL}=name:${standin.cluster}`] }),
    });

  /** CPUs a container used over `ms`, from the engine's cgroup counters. */
  async function cpusUsed(id: string, ms: number): Promise<number> {
    const usage = async () => {
      const stats = (await docker.getContainer(id).stats({ stream: false })) as {
        cpu_stats: { cpu_usage: { total_usage: number } };
      };
      return { cpuNs: stats.cpu_stats.cpu_usage.total_usage, at: process.hrtime.bigint() };
    };
    const a = await usage();
    await new Promise((resolve) => setTimeout(resolve, ms));
    const b = await usage();
    return (b.cpuNs - a.cpuNs) / Number(b.at - a.at);
  }

  it('runs a host hog within 3/4 of the CPUs, and removes it on --clear', async (t) => {
    const started = await cli('cpu', '--host', '--workers', '4', '--json');
    assert.equal(started.code, 0, started.stderr);
    const result = JSON.parse(started.stdout) as { cpus: number; hostCpus: number; container: string };
    assert.equal(result.cpus, Math.min(4, result.hostCpus * 0.75));
    const info = await docker.getContainer(result.container).inspect();
    assert.equal(info.HostConfig.NanoCpus, result.cpus * 1e9);
    assert.equal(info.HostConfig.NetworkMode, 'none');
    const used = await cpusUsed(result.container, 3000);
    t.diagnostic(`hog used ${used.toFixed(2)} CPUs over 3 s, quota ${result.cpus} of ${result.hostCpus}`);
    // Four busy loops want 4 CPUs; the quota holds them to `cpus` (the kernel's accounting overshoots a little).
    assert.ok(
      used > 0.5 && used <= result.cpus * 1.1,
      `hog used ${used.toFixed(2)} CPUs, quota ${result.cpus}`,
    );
    const cleared = await cli('cpu', '--host', '--clear');
    assert.equal(cleared.code, 0, cleared.stderr);
    assert.deepEqual(await hogs(), [], 'no hog left after --clear');
  });

  it('removes the hog by itself at the end of --for', async () => {
    const held = await cli('cpu', '--host', '--workers', '1', '--for', '2s', '--json');
    assert.equal(held.code, 0, held.stderr);
    assert.equal(JSON.parse(held.stdout).removed, true);
    assert.deepEqual(await hogs(), [], 'no hog left after --for');
  });
});
