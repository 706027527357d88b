// The peer's own flag parser (no yargs in a peer process): the same rules
// the yargs parser applied to `peer`, and the same exit code for bad usage.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parsePeerArgv, peerFlags } from '../../src/cli/commands/peer/argv.ts';
import { runBinary } from '../support/run-cli.ts';

describe('peer flags without yargs', () => {
  it('reads each flag of the settings tables as a string, in both spellings', () => {
    assert.deepEqual(parsePeerArgv(['--name', 'p1', '--gossip-port=7000']), {
      name: 'p1',
      'gossip-port': '7000',
    });
  });

  it('keeps every value of a repeated flag, as the settings resolver joins them', () => {
    assert.deepEqual(parsePeerArgv(['--join', 'a:1', '--join', 'b:2']), { join: ['a:1', 'b:2'] });
  });

  it('knows the membership and the election flags', () => {
    for (const flag of ['name', 'join', 'probe-interval-ms', 'enclave-url', 'pki-root'])
      assert.ok(peerFlags().includes(flag), flag);
  });

  it('refuses an unknown flag, a missing value and a positional argument as usage errors', () => {
    for (const argv of [['--no-such-flag', '1'], ['--name'], ['extra']]) {
      assert.throws(() => parsePeerArgv(argv), { code: 'E_USAGE' }, argv.join(' '));
    }
  });

  it('exits 2 naming the unknown flag', async () => {
    const result = await runBinary(['peer', '--gossip-port', '0', '--probe-intervall-ms', '5']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /probe-intervall-ms/);
  });
});
