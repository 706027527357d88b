// The `cluster` command as a user meets it: usage errors exit 2 before any
// engine is asked; an unreachable engine exits 1 saying how to start Docker.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runBinary } from '../support/run-cli.ts';

const NO_DOCKER = { DOCKER_HOST: 'unix:///nonexistent/enclave-elect-test.sock' };

describe('enclave-elect cluster', () => {
  it('lists its subcommands', async () => {
    const result = await runBinary(['cluster', '--help']);
    assert.equal(result.code, 0);
    for (const sub of [
      'up',
      'scale',
      'status',
      'partition',
      'heal',
      'logs',
      'down',
      'stop',
      'kill',
      'pause',
      'unpause',
      'restart',
      'start',
    ]) {
      assert.match(result.stdout, new RegExp(`cluster ${sub}\\b`), sub);
    }
  });

  it('exits 2 for --name with --project, --json with --watch, a fault without target, and bad groups', async () => {
    const cases: [string[], RegExp][] = [
      [
        ['cluster', 'status', '--name', 'a', '--project', 'b'],
        /--name and --project select different clusters/,
      ],
      [['cluster', 'status', '--json', '--watch'], /does not combine with --watch/],
      [['cluster', 'kill'], /Not enough non-option arguments/],
      [['cluster', 'partition', 'peer-1'], /GROUPS must be 2 to 26 non-empty groups/],
      [['cluster', 'pause', 'peer-1', '--for', 'a while'], /--for: 'a while' is not a duration/],
      [['cluster', 'up', '--peers', '0'], /--peers must be a whole number from 1 to 100/],
      [['cluster', 'status', '--name=bad/name'], /--name 'bad\/name' must be/],
    ];
    for (const [args, message] of cases) {
      const result = await runBinary(args, NO_DOCKER);
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, message);
      assert.equal(result.stdout, '');
    }
  });

  it('exits 1 with E_DOCKER_UNAVAILABLE when the engine does not answer', async () => {
    const result = await runBinary(['cluster', 'status', '--json'], NO_DOCKER);
    assert.equal(result.code, 1);
    assert.equal(result.stdout, '', 'no half document on stdout');
    assert.match(
      result.stderr,
      /error \[E_DOCKER_UNAVAILABLE\]: Docker is not reachable at unix:\/\/\/nonexistent\/enclave-elect-test\.sock \(ENOENT\)\. Start it/,
    );
  });

  it('sends `down --project` to compose', async () => {
    const result = await runBinary(['cluster', 'down', '--project', 'demo'], NO_DOCKER);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /E_UNSUPPORTED.*docker compose -p demo down -v/);
  });
});
