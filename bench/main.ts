// `npm run bench -- <suite> [options]`: run one benchmark suite. Each suite is a
// module bench/suites/<suite>.ts exporting `main(argv): Promise<void>`; it
// prints a table for people, or exactly one JSON document with --json.
import { readdirSync } from 'node:fs';

const suitesDir = new URL('./suites/', import.meta.url);
const available = readdirSync(suitesDir)
  .filter((f) => f.endsWith('.ts'))
  .map((f) => f.slice(0, -3))
  .sort();

const [suite, ...rest] = process.argv.slice(2);
if (!suite || suite === '--help' || suite === '-h') {
  process.stderr.write(
    `usage: npm run bench -- <suite> [options]\nsuites: ${available.join(', ') || '(none yet)'}\nEach suite takes --help.\n`,
  );
  process.exitCode = suite ? 0 : 2;
} else if (!available.includes(suite)) {
  process.stderr.write(`bench: unknown suite '${suite}'; suites: ${available.join(', ') || '(none yet)'}\n`);
  process.exitCode = 2;
} else {
  const module = (await import(new URL(`${suite}.ts`, suitesDir).href)) as {
    main: (argv: string[]) => Promise<void>;
  };
  try {
    await module.main(rest);
  } catch (error) {
    // A bad flag (node:util parseArgs, or a suite's own check, which names the flag first)
    // exits 2 with what to do; anything else is a failed run, exit 1.
    const { code, message } = error as { code?: unknown; message?: string };
    const usage =
      (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) || /^--/.test(message ?? '');
    process.stderr.write(
      usage
        ? `bench ${suite}: ${message}\n\`npm run bench -- ${suite} --help\` lists its options.\n`
        : `bench ${suite} failed: ${(error as Error).stack ?? String(error)}\n`,
    );
    process.exitCode = usage ? 2 : 1;
  }
}
