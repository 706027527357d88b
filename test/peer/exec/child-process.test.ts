// The real child of --exec: /bin/sh -c in its own process group, output as
// lines, a signal reaching the command's own children too.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { spawnShell } from '../../../src/peer/exec/child-process.ts';

function run(command: string, env: Record<string, string> = {}) {
  const lines: string[] = [];
  let resolveExit: (value: { code: number | null; signal: string | null }) => void;
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => {
    resolveExit = resolve;
  });
  const child = spawnShell(
    command,
    { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
    {
      output: (stream, line) => lines.push(`${stream}:${line}`),
      exited: (code, signal) => resolveExit({ code, signal }),
    },
  );
  return { child, lines, exited };
}

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('exec child process', () => {
  it('passes the environment and reports each output line and the exit code', async () => {
    const { lines, exited } = run('echo "token=$ENCLAVE_ELECT_TOKEN"; echo oops >&2; exit 3', {
      ENCLAVE_ELECT_TOKEN: 'abc~def',
    });
    assert.deepEqual(await exited, { code: 3, signal: null });
    await until(() => lines.length === 2);
    assert.deepEqual(lines.sort(), ['stderr:oops', 'stdout:token=abc~def']);
  });

  it('SIGTERM reaches the whole process group, the command the shell started included', async () => {
    const { child, lines, exited } = run('sleep 30 & echo "grandchild=$!"; wait');
    await until(() => lines.some((l) => l.startsWith('stdout:grandchild=')));
    const grandchild = Number(lines.find((l) => l.startsWith('stdout:grandchild='))!.split('=')[1]);
    child.signal('SIGTERM');
    assert.equal((await exited).signal, 'SIGTERM');
    await until(() => {
      try {
        process.kill(grandchild, 0);
        return false;
      } catch {
        return true;
      }
    });
  });
});
