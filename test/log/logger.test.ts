import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { createLogger, resolveLevel, wantsPretty } from '../../src/log/logger.ts';

function sink(): { stream: Writable; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  return {
    stream,
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

describe('logger', () => {
  it('writes one JSON object per event with fields, level label and ISO time', () => {
    const out = sink();
    const log = createLogger({ destination: out.stream, level: 'info', base: {} }).child({ peer: 'peer-1' });
    log.info({ event: 'member.joined', member: 'peer-2', epoch: 3 });
    log.debug({ event: 'too.quiet' });
    const [line, ...rest] = out.lines();
    assert.equal(rest.length, 0);
    assert.equal(line?.event, 'member.joined');
    assert.equal(line?.peer, 'peer-1');
    assert.equal(line?.epoch, 3);
    assert.equal(line?.level, 'info');
    assert.match(String(line?.time), /^\d{4}-\d\d-\d\dT/);
  });

  it('writes JSON to stdout synchronously, not through the thread pool', () => {
    const log = createLogger({ pretty: false });
    const stream = (log as unknown as Record<symbol, { fd: number; sync: boolean }>)[pino.symbols.streamSym];
    assert.equal(stream?.fd, 1);
    assert.equal(stream?.sync, true);
  });

  it('is pretty only when asked or on a TTY', () => {
    assert.equal(wantsPretty({ LOG_PRETTY: '1' }, false), true);
    assert.equal(wantsPretty({ LOG_PRETTY: '0' }, true), false);
    assert.equal(wantsPretty({}, true), true);
    assert.equal(wantsPretty({}, false), false);
  });

  it('reads LOG_LEVEL case-insensitively and falls back on nonsense', () => {
    assert.equal(resolveLevel('DEBUG'), 'debug');
    assert.equal(resolveLevel('loud'), 'info');
    assert.equal(resolveLevel(undefined, 'warn'), 'warn');
  });
});
