// `cluster partition one-way|ring|bridge` and `cluster heal` against the real
// engine, on stand-in peers (support/net-standin.ts). The CLI proves each cut
// with TCP probes (both directions at once); this test checks each direction
// on its own with UDP: a datagram sent from A is, or is not, received by B.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ensureHelperImage, listHelpers, runHelper } from '../src/orchestrator/fault-helper.ts';
import { runBinary } from '../test/support/run-cli.ts';
import { docker, newRunId, sweep, TEST_LABEL, testLabels } from './support/docker.ts';
import { heardOf20, type NetStandin, startNetStandin } from './support/net-standin.ts';

describe('partitions beyond clean cuts: one-way, majorities ring, bridge', { timeout: 600_000 }, () => {
  const runId = newRunId();
  let image = '';
  let standin: NetStandin;
  const cli = (...args: string[]) =>
    runBinary(['cluster', ...args, '--name', standin.cluster], {
      ENCLAVE_ELECT_EXTRA_LABELS: `${TEST_LABEL}=${runId}`,
    });

  /** Whether each ordered pair's datagrams arrive: `a>b` is true when b hears a. */
  async function directions(pairs: [string, string][]): Promise<Record<string, boolean>> {
    const out: Record<string, boolean> = {};
    for (const [from, to] of pairs) out[`${from}>${to}`] = (await heardOf20(standin, from, to)) > 0;
    return out;
  }

  async function healAndProve() {
    const healed = await cli('heal', '--json');
    assert.equal(healed.code, 0, healed.stderr);
    const result = JSON.parse(healed.stdout);
    assert.deepEqual(result.proof.unexpected, []);
    for (const id of Object.values(standin.ids)) {
      assert.deepEqual(await listHelpers(docker, id), [], 'no helper left');
      const shown = await runHelper(docker, {
        image,
        target: id,
        cmd: ['show'],
        kind: 'cut',
        describe: 'show',
        labels: testLabels(runId),
      });
      // As the cut kind, `show` looks at the EE_CUT chains: none may be left.
      assert.equal(shown.exitCode, 0, shown.stdout);
    }
    return result;
  }

  before(async () => {
    image = await ensureHelperImage(docker, (line) => process.stderr.write(`${line}\n`));
    standin = await startNetStandin(runId, image, 5, { enclave: true });
  });

  after(async () => {
    await sweep(runId);
  });

  it('one-way: peer-2 stops hearing peer-1 while peer-1 still hears peer-2', async () => {
    const applied = await cli('partition', 'one-way', 'peer-1/peer-2', '--json');
    assert.equal(applied.code, 0, applied.stderr);
    assert.deepEqual(JSON.parse(applied.stdout).cuts, [{ peer: 'peer-2', deafTo: ['peer-1'] }]);
    assert.deepEqual(
      await directions([
        ['peer-1', 'peer-2'],
        ['peer-2', 'peer-1'],
        ['peer-1', 'peer-3'],
      ]),
      {
        'peer-1>peer-2': false,
        'peer-2>peer-1': true,
        'peer-1>peer-3': true,
      },
    );
    const healed = await healAndProve();
    assert.equal(healed.cutHelpers.length, 1);
    assert.deepEqual(await directions([['peer-1', 'peer-2']]), { 'peer-1>peer-2': true });
  });

  it('majorities ring: each peer hears its two neighbours and not the two across; the enclave hears all', async () => {
    const applied = await cli('partition', 'ring');
    assert.equal(applied.code, 0, applied.stderr);
    assert.match(applied.stdout, /ring peer-1 - peer-2 - peer-3 - peer-4 - peer-5/);
    assert.deepEqual(
      await directions([
        ['peer-1', 'peer-2'],
        ['peer-1', 'peer-5'],
        ['peer-1', 'peer-3'],
        ['peer-4', 'peer-1'],
        ['peer-3', 'enclave'],
      ]),
      {
        'peer-1>peer-2': true,
        'peer-1>peer-5': true,
        'peer-1>peer-3': false,
        'peer-4>peer-1': false,
        'peer-3>enclave': true,
      },
    );
    const healed = await healAndProve();
    assert.equal(healed.cutHelpers.length, 5);
  });

  it('bridge: two halves hear each other only through the bridge peer', async () => {
    const applied = await cli('partition', 'bridge', 'peer-3', '--json');
    assert.equal(applied.code, 0, applied.stderr);
    assert.equal(JSON.parse(applied.stdout).summary, 'peer-1,peer-2 | peer-3 | peer-4,peer-5');
    assert.deepEqual(
      await directions([
        ['peer-1', 'peer-4'],
        ['peer-5', 'peer-2'],
        ['peer-1', 'peer-3'],
        ['peer-3', 'peer-5'],
        ['peer-1', 'peer-2'],
      ]),
      {
        'peer-1>peer-4': false,
        'peer-5>peer-2': false,
        'peer-1>peer-3': true,
        'peer-3>peer-5': true,
        'peer-1>peer-2': true,
      },
    );
    await healAndProve();
    assert.deepEqual(await directions([['peer-1', 'peer-4']]), { 'peer-1>peer-4': true });
  });
});
