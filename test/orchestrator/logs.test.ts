import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { clusterLogs, eventMatcher, parseSince } from '../../src/orchestrator/cluster-logs.ts';
import { demultiplex, FrameDemuxer, LineSplitter } from '../../src/orchestrator/docker-stream.ts';
import { formatDuration, parseDuration } from '../../src/orchestrator/duration.ts';
import { FakeDocker } from './fake-docker.ts';
import { ourCluster, tableReader } from './fixtures.ts';

function frame(stream: 1 | 2, text: string): Buffer {
  const payload = Buffer.from(text);
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

describe("Docker's multiplexed streams", () => {
  it('splits stdout and stderr', () => {
    assert.deepEqual(demultiplex(Buffer.concat([frame(1, 'out\n'), frame(2, 'err\n'), frame(1, 'more\n')])), {
      stdout: 'out\nmore\n',
      stderr: 'err\n',
    });
  });

  it('reassembles frames split across chunks, byte by byte', () => {
    const raw = Buffer.concat([frame(1, 'hello '), frame(2, 'oops'), frame(1, 'world')]);
    const got: string[] = [];
    const demuxer = new FrameDemuxer((stream, payload) => got.push(`${stream}:${payload}`));
    for (let i = 0; i < raw.length; i++) demuxer.push(raw.subarray(i, i + 1));
    assert.deepEqual(got, ['stdout:hello ', 'stderr:oops', 'stdout:world']);
  });

  it('turns chunks into whole lines', () => {
    const lines: string[] = [];
    const splitter = new LineSplitter((l) => lines.push(l));
    splitter.push('a\nb');
    splitter.push('c\r\nd');
    assert.deepEqual(lines, ['a', 'bc']);
    splitter.flush();
    assert.deepEqual(lines, ['a', 'bc', 'd']);
  });
});

describe('durations', () => {
  it('reads ms, s, m, h and bare milliseconds', () => {
    assert.equal(parseDuration('500ms', '--for'), 500);
    assert.equal(parseDuration('1.5s', '--for'), 1500);
    assert.equal(parseDuration('2m', '--for'), 120_000);
    assert.equal(parseDuration('250', '--for'), 250);
    assert.throws(() => parseDuration('soon', '--for'), {
      code: 'E_USAGE',
      message: /--for: 'soon' is not a duration/,
    });
  });

  it('prints them short', () => {
    assert.deepEqual([450, 2300, 185_000].map(formatDuration), ['450ms', '2.3s', '3m05s']);
  });
});

describe('cluster logs', () => {
  it('matches events exactly, by wildcard, and leaves out lines without an event', () => {
    const keep = eventMatcher(['leader.*', 'member.dead'])!;
    assert.equal(keep('{"event":"leader.acquired","epoch":3}'), true);
    assert.equal(keep('{"event":"member.dead"}'), true);
    assert.equal(keep('{"event":"member.joined"}'), false);
    assert.equal(keep('plain text leader.acquired'), false);
    assert.equal(keep('{"msg":"no event"}'), false);
    assert.equal(eventMatcher([]), undefined);
  });

  it('reads --since as a duration back, an ISO time, or unix seconds', () => {
    const now = Date.parse('2026-11-24T12:00:00Z');
    assert.equal(parseSince('30s', now), now / 1000 - 30);
    assert.equal(parseSince('2026-11-24T11:00:00Z', now), now / 1000 - 3600);
    assert.equal(parseSince('1795000000', now), 1_795_000_000);
    assert.throws(() => parseSince('yesterday', now), { code: 'E_USAGE' });
  });

  it('merges the containers by timestamp, prefixes each line, and filters by event', async () => {
    const docker = new FakeDocker();
    ourCluster(docker, 'demo', 2);
    const at = (s: number) => `2026-11-24T12:00:0${s}.000000000Z`;
    docker.container('enclave-elect-demo-peer-1').logs = Buffer.concat([
      frame(1, `${at(1)} {"event":"member.joined","peer":"peer-1"}\n`),
      frame(1, `${at(4)} {"event":"leader.acquired","peer":"peer-1","epoch":1}\n`),
    ]);
    docker.container('enclave-elect-demo-peer-2').logs = Buffer.concat([
      frame(1, `${at(2)} {"event":"member.joined","peer":"peer-2"}\n`),
      frame(2, `${at(3)} a warning on stderr\n`),
    ]);
    docker.container('enclave-elect-demo-enclave').logs = frame(
      1,
      `${at(0)} {"event":"enclave.listening"}\n`,
    );
    const all: string[] = [];
    await clusterLogs(
      docker.client,
      { kind: 'name', name: 'demo' },
      { follow: false, write: (l) => all.push(l), reader: tableReader({}) },
    );
    assert.deepEqual(all, [
      'enclave | {"event":"enclave.listening"}',
      'peer-1  | {"event":"member.joined","peer":"peer-1"}',
      'peer-2  | {"event":"member.joined","peer":"peer-2"}',
      'peer-2  | a warning on stderr',
      'peer-1  | {"event":"leader.acquired","peer":"peer-1","epoch":1}',
    ]);
    const joined: string[] = [];
    await clusterLogs(
      docker.client,
      { kind: 'name', name: 'demo' },
      { follow: false, events: ['member.joined'], write: (l) => joined.push(l), reader: tableReader({}) },
    );
    assert.equal(joined.length, 2);
    const one: string[] = [];
    await clusterLogs(
      docker.client,
      { kind: 'name', name: 'demo' },
      { target: 'peer-2', follow: false, write: (l) => one.push(l), reader: tableReader({}) },
    );
    assert.deepEqual(one, [
      'peer-2 | {"event":"member.joined","peer":"peer-2"}',
      'peer-2 | a warning on stderr',
    ]);
  });

  it('follows every container as lines arrive, across split frames, until the streams end or Ctrl-C', async () => {
    const docker = new FakeDocker();
    ourCluster(docker, 'demo', 2);
    const streams = new Map<string, PassThrough>();
    const original = docker.getContainer.bind(docker);
    docker.getContainer = (id: string) => ({
      ...original(id),
      logs: async () => {
        const stream = new PassThrough();
        streams.set(docker.container(id).name, stream);
        return stream;
      },
    });
    const lines: string[] = [];
    const controller = new AbortController();
    const following = clusterLogs(
      docker.client,
      { kind: 'name', name: 'demo' },
      {
        follow: true,
        events: ['leader.*'],
        write: (l) => lines.push(l),
        reader: tableReader({}),
        signal: controller.signal,
      },
    );
    while (streams.size < 4) await new Promise((r) => setImmediate(r));
    const raw = frame(1, '{"event":"leader.acquired","epoch":1}\n{"event":"member.joined"}\n');
    const peer1 = streams.get('enclave-elect-demo-peer-1')!;
    peer1.write(raw.subarray(0, 5));
    peer1.write(raw.subarray(5));
    streams
      .get('enclave-elect-demo-peer-2')!
      .write(frame(2, '{"event":"leader.released","reason":"expired"}'));
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(lines, ['peer-1  | {"event":"leader.acquired","epoch":1}']);
    streams.get('enclave-elect-demo-peer-2')!.end();
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(
      lines[1],
      'peer-2  | {"event":"leader.released","reason":"expired"}',
      'a partial last line is flushed at the end',
    );
    controller.abort();
    await following;
    assert.ok(
      [...streams.values()].every((s) => s.destroyed),
      'Ctrl-C closes every stream',
    );
  });
});
