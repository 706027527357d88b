// The real Spawn for LeaderExec: `/bin/sh -c COMMAND` in its own process group,
// so a signal reaches the shell and everything it started; output split into
// lines (each at most 4 KiB, so one endless line cannot grow the log without bound).
import type { Readable } from 'node:stream';
import type { ChildEvents, ChildHandle, Spawn } from './leader-exec.ts';

const MAX_LINE = 4096;

function lines(stream: Readable, emit: (line: string) => void): void {
  let buffer = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    buffer += chunk;
    let newline = buffer.indexOf('\n');
    while (newline >= 0 || buffer.length > MAX_LINE) {
      const end = newline >= 0 && newline <= MAX_LINE ? newline : MAX_LINE;
      emit(buffer.slice(0, end));
      buffer = buffer.slice(newline === end ? end + 1 : end);
      newline = buffer.indexOf('\n');
    }
  });
  stream.on('end', () => {
    if (buffer.length > 0) emit(buffer);
    buffer = '';
  });
}

export const spawnShell: Spawn = (
  command: string,
  env: Record<string, string>,
  events: ChildEvents,
): ChildHandle => {
  // Loaded on the first command: most peers run none, and need not hold node:child_process.
  const { spawn } = process.getBuiltinModule('node:child_process') as typeof import('node:child_process');
  const child = spawn('/bin/sh', ['-c', command], {
    env,
    detached: true, // its own process group: signal -pid reaches the command's children too
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  lines(child.stdout!, (line) => events.output('stdout', line));
  lines(child.stderr!, (line) => events.output('stderr', line));
  let exited = false;
  child.on('error', (error) => {
    events.output('stderr', `exec: ${error.message}`);
    if (!exited) {
      exited = true;
      events.exited(null, null);
    }
  });
  child.on('exit', (code, signal) => {
    if (exited) return;
    exited = true;
    events.exited(code, signal);
  });
  return {
    pid: child.pid,
    signal(signal) {
      if (exited || child.pid === undefined) return;
      try {
        process.kill(-child.pid, signal);
      } catch {
        // The group is gone already (ESRCH): the exit event follows.
      }
    },
  };
};
