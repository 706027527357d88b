// The skip gate of `npm test`: the reporter records every skipped or todo test,
// and under CI the check fails the run for any that the allow-list does not name.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type CliResult, runNode } from '../support/run-cli.ts';
import {
  type AllowedSkip,
  compareSkips,
  parseAllowList,
  parseSkipRecords,
  SkipListError,
  type SkipRecord,
} from '../support/skips/allow-list.ts';
import { checkSkips, DEFAULT_ALLOW_LIST, isCi, parseCommandLine } from '../support/skips/check-skips.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const FIXTURE = 'test/skips/fixtures/skipping.ts';
const REPORTER = './test/support/skips/reporter.ts';
const CHECK = 'test/support/skips/check-skips.ts';

function node(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  const childEnv = { ...process.env, ...env };
  // Inside a test file this is set; a nested `node --test` would then report to us instead of running.
  delete childEnv.NODE_TEST_CONTEXT;
  return runNode(args, childEnv, ROOT);
}

const record = (test: string, kind: 'skip' | 'todo' = 'skip'): SkipRecord => ({
  file: 'test/x.test.ts',
  test,
  kind,
  reason: null,
});
const allowed = (test: string): AllowedSkip => ({ file: 'test/x.test.ts', test, reason: 'because' });

describe('skip allow-list', () => {
  it('sorts a run’s skips into unlisted, allowed, and list entries that no longer skip', () => {
    const result = compareSkips([record('a'), record('b', 'todo')], [allowed('b'), allowed('c')]);
    assert.deepEqual(
      result.unlisted.map((r) => r.test),
      ['a'],
    );
    assert.deepEqual(
      result.allowed.map((r) => r.test),
      ['b'],
    );
    assert.deepEqual(
      result.unused.map((a) => a.test),
      ['c'],
    );
  });

  it('matches on file and test name together', () => {
    const other = { ...allowed('a'), file: 'test/y.test.ts' };
    assert.deepEqual(compareSkips([record('a')], [other]).unlisted, [record('a')]);
  });

  it('accepts the repository’s own allow-list', async () => {
    const text = await readFile(join(ROOT, DEFAULT_ALLOW_LIST), 'utf8');
    assert.ok(Array.isArray(parseAllowList(text, DEFAULT_ALLOW_LIST)));
  });

  const rejects: [string, string, RegExp][] = [
    ['not JSON', '{', /not JSON/],
    ['not an array', '{}', /expected a JSON array/],
    ['an entry that is not an object', '["x"]', /\[0\]: expected an object/],
    ['an entry without a reason', '[{"file":"f","test":"t"}]', /"reason" must be a non-empty string/],
    ['a blank reason', '[{"file":"f","test":"t","reason":"  "}]', /"reason" must be a non-empty string/],
    ['an unknown field', '[{"file":"f","test":"t","reason":"r","why":1}]', /unknown field\(s\) why/],
    [
      'a duplicate entry',
      '[{"file":"f","test":"t","reason":"r"},{"file":"f","test":"t","reason":"s"}]',
      /\[1\]: f › t is listed twice/,
    ],
  ];
  for (const [what, text, message] of rejects)
    it(`rejects ${what}, naming the file and entry`, () => {
      assert.throws(
        () => parseAllowList(text, 'list.json'),
        (error: unknown) =>
          error instanceof SkipListError && /^list\.json/.test(error.message) && message.test(error.message),
      );
    });

  it('rejects a record line the reporter could not have written', () => {
    assert.throws(
      () => parseSkipRecords('{"file":"f","test":"t","kind":"skip","reason":null}\nnope\n', 'r.jsonl'),
      /r\.jsonl:2: not a JSON line/,
    );
    assert.throws(
      () => parseSkipRecords('{"file":"f","test":"t","kind":"maybe","reason":null}', 'r.jsonl'),
      /r\.jsonl:1: not a skip record/,
    );
  });

  it('counts CI as on for any value but empty, "false" and "0"', () => {
    assert.deepEqual(
      ['true', '1', 'yes', '', 'false', 'FALSE', '0'].map((CI) => isCi({ CI })),
      [true, true, true, false, false, false, false],
    );
    assert.equal(isCi({}), false);
  });

  it('needs record files unless it only lists', () => {
    assert.throws(() => parseCommandLine([], {}), /name the skip record files/);
    assert.equal(parseCommandLine(['--list'], {}).listOnly, true);
  });
});

describe('skip gate end to end (reporter, then check)', () => {
  let dir = '';
  let records = '';
  let run: CliResult;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'skips-'));
    records = join(dir, 'skips.jsonl');
    run = await node([
      '--test',
      '--test-reporter=spec',
      '--test-reporter-destination=stdout',
      `--test-reporter=${REPORTER}`,
      `--test-reporter-destination=${records}`,
      FIXTURE,
    ]);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('records each skipped and todo test with its file and reason, and nothing else', async () => {
    assert.equal(run.code, 0, run.stdout + run.stderr);
    const recorded = parseSkipRecords(await readFile(records, 'utf8'), records);
    assert.deepEqual(recorded, [
      {
        file: FIXTURE,
        test: 'is skipped by option',
        kind: 'skip',
        reason: 'needs a capability this machine lacks',
      },
      { file: FIXTURE, test: 'skips itself', kind: 'skip', reason: 'decided at run time' },
      { file: FIXTURE, test: 'is not written yet', kind: 'todo', reason: null },
    ]);
  });

  it('fails under CI=true when a skip is not on the allow-list, naming it', async () => {
    const allow = join(dir, 'partial.json');
    await writeFile(allow, JSON.stringify([{ file: FIXTURE, test: 'skips itself', reason: 'tested here' }]));
    const check = await node([CHECK, '--allow', allow, records], { CI: 'true' });
    assert.equal(check.code, 1, check.stdout + check.stderr);
    assert.match(check.stdout, /UNLISTED {2}skip test\/skips\/fixtures\/skipping\.ts › is skipped by option/);
    assert.match(check.stdout, /UNLISTED {2}todo .* › is not written yet/);
    assert.match(check.stdout, /allowed {3}skip .* › skips itself/);
    assert.match(check.stdout, /error: 2 skipped or todo test\(s\) are not in/);
  });

  it('passes under CI=true when every skip is listed, and prints the list with the reasons', async () => {
    const allow = join(dir, 'full.json');
    const entries = ['is skipped by option', 'skips itself', 'is not written yet'].map((test) => ({
      file: FIXTURE,
      test,
      reason: `reason for ${test}`,
    }));
    await writeFile(allow, JSON.stringify(entries));
    const check = await node([CHECK, '--allow', allow, records], { CI: 'true' });
    assert.equal(check.code, 0, check.stdout + check.stderr);
    assert.match(check.stdout, /allowed skips \(.*full\.json\): 3/);
    assert.match(check.stdout, /skipping\.ts › skips itself — reason for skips itself/);
  });

  it('only warns outside CI', async () => {
    const check = await node([CHECK, '--allow', join(ROOT, DEFAULT_ALLOW_LIST), records], { CI: '' });
    assert.equal(check.code, 0, check.stdout + check.stderr);
    assert.match(
      check.stdout,
      /warning: 3 skipped or todo test\(s\) .* \(this fails the run under CI=true\)/,
    );
  });

  it('exits 2 with a clear message when the records are missing', async () => {
    const check = await node([CHECK, join(dir, 'absent.jsonl')], { CI: 'true' });
    assert.equal(check.code, 2);
    assert.match(check.stderr, /cannot read skip records .*absent\.jsonl/);
  });

  it('prints a clean report through checkSkips for an empty run', async () => {
    const empty = join(dir, 'empty.jsonl');
    await writeFile(empty, '');
    const lines: string[] = [];
    const code = await checkSkips(
      { allowList: join(ROOT, DEFAULT_ALLOW_LIST), records: [empty], listOnly: false, ci: true },
      (line) => lines.push(line),
    );
    assert.equal(code, 0);
    assert.ok(lines.includes('skipped or todo this run: 0'), lines.join('\n'));
  });
});
