import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { networkInterfaces } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { directStatusReader, onHostSubnet } from '../../src/orchestrator/direct-status-reader.ts';
import type { DockerClient } from '../../src/orchestrator/docker-client.ts';
import type { PeerStatus, StatusReader } from '../../src/orchestrator/peer-status.ts';
import { runningPeer } from './fixtures.ts';

type Interfaces = ReturnType<typeof networkInterfaces>;

function iface(cidr: string): Interfaces[string] {
  const [address] = cidr.split('/');
  return [{ address: address!, cidr, family: 'IPv4', netmask: '', mac: '', internal: false }];
}

/** Only loopback: every other address counts as off this host. */
const loopbackOnly = () => ({ lo: iface('127.0.0.1/8') });

/** A /status server on a loopback address; `mode` says how it answers. */
class StatusServer {
  mode: 'answer' | 'hang' | 'error' | 'garbage' = 'answer';
  requests = 0;
  readonly host: string;
  readonly #server: Server;
  constructor(host: string) {
    this.host = host;
    this.#server = createServer((_req, res) => {
      this.requests += 1;
      if (this.mode === 'hang') return;
      if (this.mode === 'error') res.writeHead(500).end('boom\nsecond line');
      else if (this.mode === 'garbage') res.end('<html>');
      else res.end(JSON.stringify({ name: `peer@${host}` }));
    });
  }
  listen(port = 0): Promise<number> {
    return new Promise((resolve) =>
      this.#server.listen(port, this.host, () => resolve((this.#server.address() as AddressInfo).port)),
    );
  }
  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}

/** Inspect answers with `addresses` (changeable), counting calls; exec is never expected here. */
function fakeDocker(addresses: string[]) {
  const fake = {
    addresses,
    inspections: 0,
    client: {
      getContainer: () => ({
        inspect: async () => {
          fake.inspections += 1;
          return {
            NetworkSettings: {
              Networks: Object.fromEntries(fake.addresses.map((ip, i) => [`net-${i}`, { IPAddress: ip }])),
            },
          };
        },
      }),
    } as unknown as DockerClient,
  };
  return fake;
}

function recordingFallback(): StatusReader & { asked: number } {
  const reader = Object.assign(
    async (): Promise<PeerStatus> => {
      reader.asked += 1;
      return { name: 'by-exec' };
    },
    { asked: 0 },
  );
  return reader;
}

describe('direct status reader', () => {
  // Same port on three loopback addresses: .1 answers, .3 accepts and may hang, .2 has no listener.
  const good = new StatusServer('127.0.0.1');
  const slow = new StatusServer('127.0.0.3');
  let port = 0;
  before(async () => {
    port = await good.listen();
    await slow.listen(port);
  });
  after(async () => {
    await good.close();
    await slow.close();
  });
  const options = () => ({ port, timeoutMs: 300, interfaces: loopbackOnly });

  it('counts an address as the host’s only when one of its interfaces is on that subnet', () => {
    const host = { lo: iface('127.0.0.1/8'), 'br-1': iface('172.20.0.1/16') };
    const cases: [string, boolean][] = [
      ['127.0.0.1', true],
      ['172.20.3.4', true],
      ['172.21.0.2', false],
      ['10.0.0.2', false],
      ['not-an-ip', false],
      ['', false],
    ];
    for (const [address, expected] of cases) assert.equal(onHostSubnet(address, host), expected, address);
  });

  it('reads the listed address that answers and tries it first next time', async () => {
    slow.mode = 'hang';
    slow.requests = 0;
    const docker = fakeDocker([]);
    const read = directStatusReader(docker.client, options());
    const container = runningPeer({ side: '127.0.0.3', main: '127.0.0.1' });
    assert.equal((await read(container)).name, 'peer@127.0.0.1');
    assert.equal(slow.requests, 1);
    assert.equal((await read(container)).name, 'peer@127.0.0.1');
    assert.equal(slow.requests, 1, 'the address that answered is tried first');
    assert.equal(docker.inspections, 0, 'listed addresses need no inspect while one answers');
  });

  it('inspects again when the remembered address stops answering (moved by a partition)', async () => {
    slow.mode = 'answer';
    const docker = fakeDocker(['127.0.0.3']);
    const read = directStatusReader(docker.client, options());
    assert.equal((await read(runningPeer())).name, 'peer@127.0.0.3');
    assert.equal(docker.inspections, 1);
    assert.equal((await read(runningPeer())).name, 'peer@127.0.0.3');
    assert.equal(docker.inspections, 1, 'the inspected addresses are remembered');
    slow.mode = 'hang';
    docker.addresses = ['127.0.0.1'];
    assert.equal((await read(runningPeer())).name, 'peer@127.0.0.1');
    assert.equal(docker.inspections, 2);
  });

  it('reports a silent peer at an address that answered before, without exec', async () => {
    slow.mode = 'answer';
    const fallback = recordingFallback();
    const docker = fakeDocker(['127.0.0.3']);
    const read = directStatusReader(docker.client, { ...options(), fallback });
    const container = runningPeer({ main: '127.0.0.3' });
    await read(container);
    slow.mode = 'hang';
    await assert.rejects(read(container), { message: `no answer from 127.0.0.3:${port} within 300 ms` });
    assert.equal(fallback.asked, 0);
    assert.equal(docker.inspections, 1, 'inspected once to see whether it moved');
  });

  it('says why in one line: refused, HTTP error, not JSON', async () => {
    const read = directStatusReader(fakeDocker([]).client, { ...options(), fallback: recordingFallback() });
    await assert.rejects(read(runningPeer({ main: '127.0.0.2' })), {
      message: `nothing listens on 127.0.0.2:${port} (ECONNREFUSED)`,
    });
    good.mode = 'error';
    await assert.rejects(read(runningPeer({ main: '127.0.0.1' })), { message: 'HTTP 500: boom second line' });
    good.mode = 'garbage';
    await assert.rejects(read(runningPeer({ main: '127.0.0.1' })), {
      message: '/status is not JSON: <html>',
    });
    good.mode = 'answer';
  });

  it('reads by the fallback when no address is on a subnet of this host, and says so once', async () => {
    const fallback = recordingFallback();
    const notes: string[] = [];
    const read = directStatusReader(fakeDocker([]).client, {
      ...options(),
      fallback,
      note: (line) => notes.push(line),
    });
    const container = runningPeer({ main: '172.31.0.9' });
    assert.equal((await read(container)).name, 'by-exec');
    assert.equal((await read(container)).name, 'by-exec');
    assert.equal(fallback.asked, 2);
    assert.deepEqual(notes, [
      'peer-1: /status read by docker exec (no address on a subnet of this host (addresses: 172.31.0.9))',
    ]);
  });

  it('fails without a fallback (forced http) when there is no way to the container', async () => {
    const read = directStatusReader(fakeDocker([]).client, options());
    await assert.rejects(read(runningPeer({ main: '172.31.0.9' })), /no address on a subnet of this host/);
  });

  it('does not wait again on an address that never answered until its cool-off ends', async () => {
    slow.mode = 'hang';
    slow.requests = 0;
    let now = 1_000;
    const fallback = recordingFallback();
    const read = directStatusReader(fakeDocker(['127.0.0.3']).client, {
      ...options(),
      fallback,
      coolOffMs: 10_000,
      now: () => now,
    });
    const container = runningPeer({ main: '127.0.0.3' });
    assert.equal((await read(container)).name, 'by-exec');
    assert.equal(slow.requests, 1);
    assert.equal((await read(container)).name, 'by-exec');
    assert.equal(slow.requests, 1, 'cooling off: straight to the fallback');
    now += 10_001;
    slow.mode = 'answer';
    assert.equal((await read(container)).name, 'peer@127.0.0.3');
    assert.equal(fallback.asked, 2);
  });
});
