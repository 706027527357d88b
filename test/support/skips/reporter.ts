// A node:test reporter that records every skipped or todo test as one JSON line
// (see SkipRecord), so check-skips.ts can hold a run to the allow-list. It runs
// beside the spec reporter, each with its own destination:
//   node --test --test-reporter=spec --test-reporter-destination=stdout \
//     --test-reporter=./test/support/skips/reporter.ts --test-reporter-destination=.tmp/skips-unit.jsonl
import { relative } from 'node:path';
import type { TestEvent } from 'node:test/reporters';
import type { SkipRecord } from './allow-list.ts';

export default async function* skipReporter(source: AsyncIterable<TestEvent>): AsyncGenerator<string> {
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    const { skip, todo, name, file } = event.data;
    const kind =
      skip !== undefined && skip !== false ? 'skip' : todo !== undefined && todo !== false ? 'todo' : null;
    if (kind === null) continue;
    const reason = kind === 'skip' ? skip : todo;
    const record: SkipRecord = {
      // Relative to the directory the run started in (the repository root for npm scripts),
      // so the allow-list holds on every machine.
      file: file === undefined ? '(unknown file)' : relative(process.cwd(), file),
      test: name,
      kind,
      reason: typeof reason === 'string' ? reason : null,
    };
    yield `${JSON.stringify(record)}\n`;
  }
}
