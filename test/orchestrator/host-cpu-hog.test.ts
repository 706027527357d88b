import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HOG_MAX_SHARE, hogCommand, hogCpus } from '../../src/orchestrator/host-cpu-hog.ts';
import { runBinary } from '../support/run-cli.ts';

describe('host CPU hog', () => {
  it('gives the hog its workers in CPUs, but never more than 3/4 of the host', () => {
    assert.equal(HOG_MAX_SHARE, 0.75);
    assert.equal(hogCpus(1, 2), 1);
    assert.equal(hogCpus(2, 2), 1.5);
    assert.equal(hogCpus(4, 2), 1.5);
    assert.equal(hogCpus(3, 8), 3);
  });

  it('refuses a worker count that is not a whole number from 1 to 64', () => {
    for (const bad of [0, -1, 1.5, 65, Number.NaN]) {
      assert.throws(() => hogCpus(bad, 2), {
        code: 'E_USAGE',
        message: /--workers must be a whole number from 1 to 64/,
      });
    }
  });

  it('runs stress-ng busy loops that end by themselves', () => {
    assert.deepEqual(hogCommand(2, 30_500), [
      'stress-ng',
      '--cpu',
      '2',
      '--cpu-method',
      'loop',
      '--timeout',
      '31s',
    ]);
  });
});

describe('enclave-elect cluster cpu --host (usage)', () => {
  it('refuses a target, --share, or neither --workers nor --clear, with exit 2', async () => {
    const cases: [string[], RegExp][] = [
      [['peer-1', '--host', '--workers', '2'], /--host loads the whole host: give no target/],
      [['--host', '--share', '5%'], /--share is for one peer; with --host give --workers/],
      [['--host'], /give --workers \(2\) to start the host CPU hog, or --clear to remove it/],
      [['--host', '--clear', '--for', '5s'], /--for goes with --workers, not --clear/],
      [['--share', '5%'], /name a target peer, or give --host/],
      [['peer-1', '--workers', '2', '--share', '5%'], /--workers goes with --host/],
    ];
    for (const [args, message] of cases) {
      const result = await runBinary(['cluster', 'cpu', ...args, '--name', 'nothing-here']);
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, message);
    }
  });
});
