// Which skipped or todo tests a run may have: the records the skip reporter
// wrote, the one allow-list file (test/allowed-skips.json), and the comparison
// of the two. Pure (text in, values out); check-skips.ts does the I/O.

export type SkipKind = 'skip' | 'todo';

/** One skipped or todo test of a run, as the skip reporter records it. */
export interface SkipRecord {
  file: string;
  test: string;
  kind: SkipKind;
  reason: string | null;
}

/** One allow-list entry: this test may be skipped, and why. */
export interface AllowedSkip {
  file: string;
  test: string;
  reason: string;
}

export interface SkipComparison {
  /** Skipped or todo this run and not on the allow-list: under CI, these fail the run. */
  unlisted: SkipRecord[];
  /** Skipped or todo this run and on the allow-list. */
  allowed: SkipRecord[];
  /** On the allow-list but not skipped this run: candidates for removal from the list. */
  unused: AllowedSkip[];
}

export class SkipListError extends Error {
  override name = 'SkipListError';
}

const key = (entry: { file: string; test: string }) => `${entry.file}\u0000${entry.test}`;

function nonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.trim() !== '';
}

/** Parses and validates the allow-list: a JSON array of `{ file, test, reason }`, each non-empty, no duplicates. */
export function parseAllowList(text: string, source: string): AllowedSkip[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new SkipListError(`${source}: not JSON (${(error as Error).message})`);
  }
  if (!Array.isArray(parsed))
    throw new SkipListError(`${source}: expected a JSON array of { "file", "test", "reason" } entries`);
  const seen = new Set<string>();
  return parsed.map((entry: unknown, index) => {
    const where = `${source}[${index}]`;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry))
      throw new SkipListError(`${where}: expected an object { "file", "test", "reason" }`);
    const { file, test, reason, ...extra } = entry as Record<string, unknown>;
    for (const [field, value] of Object.entries({ file, test, reason }))
      if (!nonEmptyString(value))
        throw new SkipListError(
          `${where}: "${field}" must be a non-empty string (a skip is allowed only with its reason)`,
        );
    const unknown = Object.keys(extra);
    if (unknown.length > 0) throw new SkipListError(`${where}: unknown field(s) ${unknown.join(', ')}`);
    const allowed = { file, test, reason } as AllowedSkip;
    if (seen.has(key(allowed)))
      throw new SkipListError(`${where}: ${allowed.file} › ${allowed.test} is listed twice`);
    seen.add(key(allowed));
    return allowed;
  });
}

/** Parses the reporter's JSON lines; a line that is not a record is an error, not silently dropped. */
export function parseSkipRecords(text: string, source: string): SkipRecord[] {
  return text
    .split('\n')
    .map((line, index) => ({ line, number: index + 1 }))
    .filter(({ line }) => line.trim() !== '')
    .map(({ line, number }) => {
      let record: Partial<SkipRecord>;
      try {
        record = JSON.parse(line);
      } catch {
        throw new SkipListError(`${source}:${number}: not a JSON line: ${line.slice(0, 200)}`);
      }
      if (
        !nonEmptyString(record.file) ||
        typeof record.test !== 'string' ||
        (record.kind !== 'skip' && record.kind !== 'todo') ||
        (record.reason !== null && typeof record.reason !== 'string')
      )
        throw new SkipListError(`${source}:${number}: not a skip record: ${line.slice(0, 200)}`);
      return { file: record.file, test: record.test, kind: record.kind, reason: record.reason };
    });
}

export function compareSkips(
  records: readonly SkipRecord[],
  allowList: readonly AllowedSkip[],
): SkipComparison {
  const listed = new Set(allowList.map(key));
  const skipped = new Set(records.map(key));
  return {
    unlisted: records.filter((r) => !listed.has(key(r))),
    allowed: records.filter((r) => listed.has(key(r))),
    unused: allowList.filter((a) => !skipped.has(key(a))),
  };
}
