// `enclave-elect cluster clock` against the real engine: a stand-in peer's wall
// clock moves by the offset asked for, as a process inside it reads it
// (support/net-standin.ts; no election involved). The first offset restarts
// the peer once to preload libfaketime. Later ones, and --clear, need no
// restart. Other peers and the enclave keep the true time. A strobe flips the
// clock between +x and -x, which a process inside the peer sees as a swing of
// about 2x; --clear stops the strobe and leaves no helper.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { measureOffset } from '../src/orchestrator/clock-skew.ts';
import { ensureHelperImage, listHelpers } from '../src/orchestrator/fault-helper.ts';
import { runBinary } from '../test/support/run-cli.ts';
import { docker, newRunId, sweep, TEST_LABEL } from './support/docker.ts';
import { type NetStandin, startNetStandin } from './support/net-standin.ts';

interface Result {
  target: string;
  offsetMs: number;
  restarted: boolean;
  measured: { low: number; high: number };
}

/** The true offset lies within what was measured, give or take the clocks' read granularity. */
function assertWithin(result: Result, expectedMs: number) {
  const { low, high } = result.measured;
  assert.ok(
    low - 5 <= expectedMs && expectedMs <= high + 5,
    `measured ${low}..${high} ms, asked ${expectedMs} ms`,
  );
}

describe('cluster clock: a peer whose wall clock runs ahead or behind', { timeout: 600_000 }, () => {
  const runId = newRunId();
  let standin: NetStandin;
  const cli = (...args: string[]) =>
    runBinary(['cluster', ...args, '--name', standin.cluster], {
      ENCLAVE_ELECT_EXTRA_LABELS: `${TEST_LABEL}=${runId}`,
    });
  const idOf = async (member: string) =>
    (await docker.getContainer(standin.containerName(member)).inspect()).Id;

  before(async () => {
    const image = await ensureHelperImage(docker, (line) => process.stderr.write(`${line}\n`));
    standin = await startNetStandin(runId, image, 2, { enclave: true });
  });

  after(async () => {
    const left = await sweep(runId);
    assert.ok(
      left.volumes.some((v) => v.endsWith('-clock')),
      'the clock volume carried the test label',
    );
  });

  it('moves peer-1 ahead by the offset, restarting it once; peer-2 keeps the true time', async () => {
    const moved = await cli('clock', 'peer-1', '--offset', '+3s', '--json');
    assert.equal(moved.code, 0, moved.stderr);
    const result = JSON.parse(moved.stdout) as Result;
    assert.equal(result.restarted, true);
    assertWithin(result, 3000);
    const other = await measureOffset(docker, await idOf('peer-2'));
    assert.ok(other.low - 5 <= 0 && 0 <= other.high + 5, `peer-2 measured ${other.low}..${other.high} ms`);
  });

  it('moves it behind without another restart, then --clear puts it back', async () => {
    const id = await idOf('peer-1');
    const behind = JSON.parse((await cli('clock', 'peer-1', '--offset=-1500ms', '--json')).stdout) as Result;
    assert.equal(behind.restarted, false);
    assertWithin(behind, -1500);
    const cleared = JSON.parse((await cli('clock', 'peer-1', '--clear', '--json')).stdout) as Result;
    assertWithin(cleared, 0);
    assert.equal(await idOf('peer-1'), id, 'no restart after the first');
  });

  it('strobes peer-1 between +300 ms and -300 ms, seen inside it; --clear stops it and leaves no helper', async (t) => {
    const id = await idOf('peer-1');
    const strobed = await cli('clock', 'peer-1', '--strobe', '300ms,600ms', '--json');
    assert.equal(strobed.code, 0, strobed.stderr);
    const result = JSON.parse(strobed.stdout) as Result & { swingMs: number; strobePeriodMs: number };
    assert.equal(result.restarted, false);
    assert.equal(result.strobePeriodMs, 600);
    t.diagnostic(`swing seen inside peer-1: ${result.swingMs} ms`);
    // +300 to -300 is a 600 ms swing; the sampler's own 20 ms ticks blur it a little.
    assert.ok(result.swingMs >= 540 && result.swingMs <= 680, `swing ${result.swingMs} ms`);
    assert.equal((await listHelpers(docker, id, 'clock')).length, 1, 'the strobe runs in one helper');
    const cleared = JSON.parse((await cli('clock', 'peer-1', '--clear', '--json')).stdout) as Result;
    assertWithin(cleared, 0);
    assert.deepEqual(await listHelpers(docker, id, 'clock'), [], 'no clock helper left');
  });

  it('--for puts the true time back by itself', async () => {
    const held = await cli('clock', 'peer-1', '--offset', '+700ms', '--for', '1s', '--json');
    assert.equal(held.code, 0, held.stderr);
    const result = JSON.parse(held.stdout) as Result & { restored: boolean };
    assertWithin(result, 700);
    assert.equal(result.restored, true);
    const after = await measureOffset(docker, await idOf('peer-1'));
    assert.ok(after.low - 5 <= 0 && 0 <= after.high + 5, `after --for: ${after.low}..${after.high} ms`);
  });

  it('refuses the enclave (its clock stays true) and an offset that is not a duration, with exit 2', async () => {
    const enclave = await cli('clock', 'enclave', '--offset', '+1s');
    assert.equal(enclave.code, 2, enclave.stderr);
    assert.match(enclave.stderr, /the enclave's clock stays true/);
    const bad = await cli('clock', 'peer-1', '--offset', 'soon');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--offset 'soon' must be a signed duration/);
  });
});
