import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { CLOCK_DIR } from '../../src/orchestrator/clock-skew.ts';
import { clockHelperScript, parseStrobe } from '../../src/orchestrator/clock-strobe.ts';

/** Run the helper's script against a temporary directory in place of the clock volume. */
async function runScript(script: string, dir: string, sampleEveryMs: number, samples: number) {
  const child = spawn('sh', ['-c', script.replaceAll(CLOCK_DIR, dir)], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  while (!stderr.includes('clock: ready')) await sleep(10);
  const seen: string[] = [];
  for (let i = 0; i < samples; i++) {
    seen.push((await readFile(join(dir, 'peer-2.rc'), 'utf8')).trim());
    await sleep(sampleEveryMs);
  }
  const exited = new Promise((resolve) => child.on('exit', resolve));
  child.kill('SIGTERM');
  const code = await exited;
  return { seen, code, after: (await readFile(join(dir, 'peer-2.rc'), 'utf8')).trim() };
}

describe('clock strobe', () => {
  it('reads OFFSET,PERIOD, the offset as a magnitude', () => {
    assert.deepEqual(parseStrobe('200ms,1s'), { offsetMs: 200, strobePeriodMs: 1000 });
    assert.deepEqual(parseStrobe('-1.5s, 500ms'), { offsetMs: 1500, strobePeriodMs: 500 });
  });

  it('refuses a missing part, a zero offset and a period under 100 ms, naming the option', () => {
    for (const bad of ['200ms', '200ms,', ',1s', '200ms,1s,2s']) {
      assert.throws(() => parseStrobe(bad), {
        code: 'E_USAGE',
        message: /--strobe '.*' must be OFFSET,PERIOD/,
      });
    }
    assert.throws(() => parseStrobe('0,1s'), { code: 'E_USAGE', message: /must not be 0/ });
    assert.throws(() => parseStrobe('200ms,50ms'), { code: 'E_USAGE', message: /at least 100ms/ });
  });

  it('flips the offset file between +x and -x every period, and writes the true time back on SIGTERM', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'clock-strobe-'));
    try {
      const { seen, code, after } = await runScript(
        clockHelperScript('peer-2', { offsetMs: 250, strobePeriodMs: 300 }),
        dir,
        100,
        15,
      );
      assert.deepEqual([...new Set(seen)].sort(), ['+0.250', '-0.250']);
      assert.equal(seen[0], '+0.250');
      assert.equal(code, 0);
      assert.equal(after, '+0.000');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('holds a fixed offset until stopped, and stops at once (not after its sleep)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'clock-fixed-'));
    try {
      const started = Date.now();
      const { seen, after } = await runScript(clockHelperScript('peer-2', { offsetMs: -1500 }), dir, 50, 4);
      assert.deepEqual([...new Set(seen)], ['-1.500']);
      assert.equal(after, '+0.000');
      assert.ok(Date.now() - started < 5000, 'the 1 h sleep did not delay the trap');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('enclave-elect cluster clock (usage)', () => {
  it('takes exactly one of --offset, --strobe, --clear, and --for only with a fault, with exit 2', async () => {
    const { runBinary } = await import('../support/run-cli.ts');
    const cases: [string[], RegExp][] = [
      [['peer-1'], /give one of --offset .* --strobe .* or --clear/],
      [['peer-1', '--offset', '+1s', '--strobe', '200ms,1s'], /give one of --offset/],
      [['peer-1', '--clear', '--for', '5s'], /--for goes with --offset or --strobe, not --clear/],
      [['peer-1', '--strobe', '200ms'], /--strobe '200ms' must be OFFSET,PERIOD/],
    ];
    for (const [args, message] of cases) {
      const result = await runBinary(['cluster', 'clock', ...args, '--name', 'nothing-here']);
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, message);
    }
  });
});
