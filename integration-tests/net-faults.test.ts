// `enclave-elect cluster net` against the real engine: each network fault is
// seen from outside the system under test. Two stand-in peers run the fault
// helper's UDP echo pair (support/net-standin.ts; no election involved): peer-2
// echoes, peer-1 measures round trips while the CLI breaks peer-1's network.
// Afterwards no qdisc, iptables rule or helper container is left behind.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ensureHelperImage, listHelpers, runHelper } from '../src/orchestrator/fault-helper.ts';
import { runBinary } from '../test/support/run-cli.ts';
import { docker, newRunId, sweep, TEST_LABEL, testLabels } from './support/docker.ts';
import { echoTool, type NetStandin, startNetStandin } from './support/net-standin.ts';

interface Measurement {
  sent: number;
  received: number;
  rttMs: { p10: number; p50: number; p90: number };
  missing: number;
  duplicated: number;
  corrupted: number;
  meanLossRun: number;
}

const COUNT = 1000;

describe('cluster net: network faults in the kernel, measured from outside', { timeout: 600_000 }, () => {
  const runId = newRunId();
  let image = '';
  let client = '';
  let standin: NetStandin;
  const cli = (...args: string[]) =>
    runBinary(['cluster', ...args, '--name', standin.cluster], {
      ENCLAVE_ELECT_EXTRA_LABELS: `${TEST_LABEL}=${runId}`,
    });

  async function measure(): Promise<Measurement> {
    return echoTool<Measurement>(client, [
      'measure',
      standin.containerName('peer-2'),
      '7000',
      String(COUNT),
      '5',
    ]);
  }

  async function leftInNamespace() {
    return runHelper(docker, {
      image,
      target: client,
      cmd: ['show'],
      kind: 'net',
      describe: 'show',
      labels: testLabels(runId),
    });
  }

  let baseline: Measurement;

  before(async () => {
    image = await ensureHelperImage(docker, (line) => process.stderr.write(`${line}\n`));
    standin = await startNetStandin(runId, image, 2);
    client = standin.ids['peer-1']!;
    baseline = await measure();
  });

  after(async () => {
    await sweep(runId);
  });

  it('without a fault, the echo is fast and complete', () => {
    assert.equal(baseline.missing, 0);
    assert.equal(baseline.duplicated, 0);
    assert.equal(baseline.corrupted, 0);
    assert.ok(baseline.rttMs.p50 < 20, `baseline p50 ${baseline.rttMs.p50} ms`);
  });

  it('delay with jitter raises the round trip by the delay; duplication and corruption hit their share', async () => {
    const applied = await cli(
      'net',
      'peer-1',
      '--delay',
      '100ms',
      '--jitter',
      '20ms',
      '--duplicate',
      '5%',
      '--corrupt',
      '5%',
      '--seed',
      'it',
      '--json',
    );
    assert.equal(applied.code, 0, applied.stderr);
    const result = JSON.parse(applied.stdout);
    assert.equal(result.target, 'peer-1');
    assert.ok(['netem', 'nfqueue'].includes(result.shaping), result.shaping);
    const m = await measure();
    const rise = m.rttMs.p50 - baseline.rttMs.p50;
    assert.ok(rise >= 90 && rise <= 130, `p50 rose by ${rise} ms, configured 100 ms`);
    // Uniform ±20 ms: the 10th to 90th percentile spread is about 32 ms.
    const spread = m.rttMs.p90 - m.rttMs.p10;
    assert.ok(spread >= 16 && spread <= 80, `p10..p90 spread ${spread} ms, configured jitter 20 ms`);
    // 1000 datagrams: one standard deviation of a 5% share is 0.7%; allow about 4.
    assert.ok(Math.abs(m.duplicated - 0.05) <= 0.03, `duplicated ${m.duplicated}, configured 5%`);
    assert.ok(Math.abs(m.corrupted - 0.05) <= 0.03, `corrupted ${m.corrupted}, configured 5%`);
    assert.ok(m.missing - m.corrupted <= 0.01, `lost ${m.missing - m.corrupted} with no loss configured`);
  });

  it('random loss drops its share, one datagram at a time', async () => {
    const applied = await cli('net', 'peer-1', '--loss', '10%');
    assert.equal(applied.code, 0, applied.stderr);
    assert.match(applied.stdout, /peer-1 .*loss 10%/);
    const m = await measure();
    assert.ok(Math.abs(m.missing - 0.1) <= 0.04, `lost ${m.missing}, configured 10%`);
    assert.ok(m.meanLossRun < 1.5, `mean loss run ${m.meanLossRun}: random loss is not bursty`);
    assert.ok(m.rttMs.p50 - baseline.rttMs.p50 < 20, 'the earlier delay was replaced, not added to');
  });

  it('Gilbert-Elliott loss comes in bursts of the configured mean length', async () => {
    // p = 2%, r = 20%: lost 2 / (2 + 20) = 9% of the time, in bursts of 1 / r = 5 on average.
    const applied = await cli('net', 'peer-1', '--loss-burst', '2%,20%', '--seed', 'it');
    assert.equal(applied.code, 0, applied.stderr);
    const m = await measure();
    assert.ok(Math.abs(m.missing - 0.09) <= 0.06, `lost ${m.missing}, expected about 9%`);
    assert.ok(m.meanLossRun >= 2.5, `mean loss run ${m.meanLossRun}, expected about 5`);
  });

  it('a rate limit puts a TBF qdisc on the interface', async () => {
    const applied = await cli('net', 'peer-1', '--rate', '1mbit');
    assert.equal(applied.code, 0, applied.stderr);
    const shown = await leftInNamespace();
    assert.equal(shown.exitCode, 3, shown.stdout);
    assert.match(shown.stdout, /qdisc on eth0: qdisc tbf .*rate 1Mbit/);
  });

  it('--clear leaves no qdisc, iptables rule or helper container behind', async () => {
    const cleared = await cli('net', 'peer-1', '--clear', '--json');
    assert.equal(cleared.code, 0, cleared.stderr);
    const result = JSON.parse(cleared.stdout);
    assert.deepEqual(result.targets, ['peer-1']);
    assert.equal(result.helpers.length, 1);
    assert.deepEqual(await listHelpers(docker, client), []);
    const shown = await leftInNamespace();
    assert.deepEqual([shown.exitCode, shown.stdout.trim()], [0, 'clean']);
    const m = await measure();
    assert.equal(m.missing, 0);
    assert.ok(m.rttMs.p50 < 20);
  });
});
