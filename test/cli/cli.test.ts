import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { commands } from '../../src/cli/commands/index.ts';
import { VERSION } from '../../src/version.ts';
import { runBinary } from '../support/run-cli.ts';

describe('enclave-elect CLI', () => {
  it('prints help listing its commands and exits 0', async () => {
    const result = await runBinary(['--help']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /enclave-elect <command> \[options\]/);
    assert.match(result.stdout, /healthcheck/);
    assert.match(result.stdout, /--version/);
  });

  it('lists every command with its description in --help', async () => {
    const result = await runBinary(['--help']);
    assert.equal(result.code, 0, result.stderr);
    for (const entry of commands) {
      assert.ok(result.stdout.includes(`enclave-elect ${entry.command}`), entry.command);
      assert.ok(result.stdout.replace(/\s+/g, ' ').includes(entry.describe), entry.describe);
    }
  });

  it("shows a lazily loaded command's own help, subcommands included", async () => {
    const result = await runBinary(['cluster', '--help']);
    assert.equal(result.code, 0, result.stderr);
    for (const sub of ['cluster up', 'cluster scale', 'cluster status', 'cluster chaos', 'cluster down']) {
      assert.ok(result.stdout.includes(sub), sub);
    }
    assert.match(result.stdout, /--project/);
  });

  it('prints the package version with --version and -V', async () => {
    for (const flag of ['--version', '-V']) {
      const result = await runBinary([flag]);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout.trim(), VERSION);
    }
  });

  it('exits 2 with a hint for an unknown command', async () => {
    const result = await runBinary(['frobnicate']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /Unknown command 'frobnicate'\./);
    assert.match(result.stderr, /Run 'enclave-elect --help' for usage\./);
    assert.equal(result.stdout, '');
  });

  it('suggests the closest command for a typo', async () => {
    const result = await runBinary(['healthchek']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /Unknown command 'healthchek'\. Did you mean 'healthcheck'\?/);
  });

  it('exits 2 naming an unknown flag of a command', async () => {
    const result = await runBinary(['healthcheck', '--bogus-flag']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /Unknown argument: bogus-flag/);
  });

  it('exits 2 when no command is given', async () => {
    const result = await runBinary([]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /Name a command/);
  });
});
