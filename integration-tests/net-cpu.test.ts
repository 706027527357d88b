// `enclave-elect cluster cpu` against the real engine: a stand-in peer
// (support/net-standin.ts) under a CPU quota gets through less work on
// time. It measures how many 10 ms ticks of 4 ms work each it completes in
// 3 s, as a peer's timers would. After the quota goes back, the ticks come
// back too.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { execInContainer } from '../src/orchestrator/container-exec.ts';
import { ensureHelperImage } from '../src/orchestrator/fault-helper.ts';
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
});
