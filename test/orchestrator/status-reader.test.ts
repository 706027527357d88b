import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { DockerClient } from '../../src/orchestrator/docker-client.ts';
import { engineIsLocal, statusReaderFor } from '../../src/orchestrator/status-reader.ts';
import { runningPeer } from './fixtures.ts';

/** Exec fails with a recognisable message; inspect finds no network. */
const docker = {
  getContainer: () => ({
    inspect: async () => ({ NetworkSettings: { Networks: {} } }),
    exec: async () => {
      throw new Error('exec was used');
    },
  }),
} as unknown as DockerClient;

describe('choosing the status reader', () => {
  it('treats only an unset DOCKER_HOST or a unix socket as a local engine', () => {
    const cases: [string | undefined, boolean][] = [
      [undefined, true],
      ['', true],
      ['unix:///var/run/docker.sock', true],
      ['tcp://10.1.2.3:2376', false],
      ['ssh://me@build-host', false],
    ];
    for (const [host, local] of cases) assert.equal(engineIsLocal(host), local, String(host));
  });

  const server = createServer((_req, res) => res.end(JSON.stringify({ name: 'over-http' })));
  let port = 0;
  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  it('auto reads over HTTP on a local engine', async () => {
    const read = statusReaderFor(docker, 'auto', { env: {}, port });
    assert.equal((await read(runningPeer({ main: '127.0.0.1' }))).name, 'over-http');
  });

  it('auto reads by exec with a remote engine, even when an address would answer', async () => {
    const read = statusReaderFor(docker, 'auto', { env: { DOCKER_HOST: 'tcp://10.1.2.3:2376' }, port });
    await assert.rejects(read(runningPeer({ main: '127.0.0.1' })), { message: 'exec was used' });
  });

  it('auto falls back to exec for a container without an address on this host', async () => {
    const notes: string[] = [];
    const read = statusReaderFor(docker, 'auto', { env: {}, port, note: (line) => notes.push(line) });
    await assert.rejects(read(runningPeer({})), { message: 'exec was used' });
    assert.equal(notes.length, 1);
  });

  it('exec and http are forced as asked', async () => {
    const exec = statusReaderFor(docker, 'exec', { env: {}, port });
    await assert.rejects(exec(runningPeer({ main: '127.0.0.1' })), { message: 'exec was used' });
    const http = statusReaderFor(docker, 'http', { env: { DOCKER_HOST: 'tcp://10.1.2.3:2376' }, port });
    await assert.rejects(http(runningPeer({})), /no address on a subnet of this host/);
    assert.equal((await http(runningPeer({ main: '127.0.0.1' }))).name, 'over-http');
  });
});
