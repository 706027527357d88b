// Holds a test run to the allow-list: prints the allow-list and every test the
// run skipped or marked todo, and under CI=true exits 1 when one of them is not
// listed. `npm test` runs it after the tests; `.ci/run` prints the list with --list.
//
// Usage: node test/support/skips/check-skips.ts [--allow FILE] [--list] RECORDS.jsonl...
// Exit codes: 0 ok, 1 an unlisted skip under CI, 2 usage or unreadable input.
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import {
  type AllowedSkip,
  compareSkips,
  parseAllowList,
  parseSkipRecords,
  SkipListError,
} from './allow-list.ts';

export const DEFAULT_ALLOW_LIST = 'test/allowed-skips.json';

export interface CheckOptions {
  allowList: string;
  records: string[];
  listOnly: boolean;
  /** Under CI an unlisted skip fails; elsewhere it is a warning, so a developer's partial run still reports. */
  ci: boolean;
}

export function isCi(env: NodeJS.ProcessEnv): boolean {
  const value = env.CI?.trim().toLowerCase();
  return value !== undefined && value !== '' && value !== 'false' && value !== '0';
}

async function readText(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    const hint = what === 'skip records' ? ' (run the tests through npm, which records skips there)' : '';
    throw new SkipListError(`cannot read ${what} ${path}: ${(error as Error).message}${hint}`);
  }
}

const describeAllowed = (a: AllowedSkip) => `${a.file} › ${a.test} — ${a.reason}`;

/** Returns the exit code; every line of output goes through `print`. */
export async function checkSkips(options: CheckOptions, print: (line: string) => void): Promise<number> {
  const allowList = parseAllowList(await readText(options.allowList, 'allow-list'), options.allowList);
  print(`allowed skips (${options.allowList}): ${allowList.length === 0 ? 'none' : allowList.length}`);
  for (const entry of allowList) print(`  ${describeAllowed(entry)}`);
  if (options.listOnly) return 0;

  const records = [];
  for (const path of options.records)
    records.push(...parseSkipRecords(await readText(path, 'skip records'), path));
  const { unlisted, allowed, unused } = compareSkips(records, allowList);
  print(`skipped or todo this run: ${records.length}`);
  for (const r of allowed) print(`  allowed   ${r.kind} ${r.file} › ${r.test}`);
  for (const r of unlisted)
    print(`  UNLISTED  ${r.kind} ${r.file} › ${r.test}${r.reason ? ` (${r.reason})` : ''}`);
  for (const a of unused) print(`note: listed but not skipped this run: ${a.file} › ${a.test}`);
  if (unlisted.length === 0) return 0;
  const advice =
    `${unlisted.length} skipped or todo test(s) are not in ${options.allowList}. A test that needs a ` +
    'capability must fail when it is missing; if a skip is really right, list it there with its reason.';
  if (!options.ci) {
    print(`warning: ${advice} (this fails the run under CI=true)`);
    return 0;
  }
  print(`error: ${advice}`);
  return 1;
}

export function parseCommandLine(argv: string[], env: NodeJS.ProcessEnv): CheckOptions {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      allow: { type: 'string', default: DEFAULT_ALLOW_LIST },
      list: { type: 'boolean', default: false },
    },
  });
  if (!values.list && positionals.length === 0)
    throw new SkipListError('name the skip record files the reporter wrote (or pass --list)');
  return { allowList: values.allow, records: positionals, listOnly: values.list, ci: isCi(env) };
}

if (import.meta.main) {
  try {
    process.exitCode = await checkSkips(parseCommandLine(process.argv.slice(2), process.env), (line) =>
      console.log(line),
    );
  } catch (error) {
    const usage =
      error instanceof SkipListError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    if (!usage) throw error;
    console.error(`check-skips: ${(error as Error).message}`);
    process.exitCode = 2;
  }
}
