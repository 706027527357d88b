import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { LeaderClaims } from '../../src/crypto/leader-certificate.ts';
import { BUILT_IN_FUNCTION_PATH, functionChecksum } from '../../src/enclave/leader-function.ts';
import { ManualClock } from '../../src/time/clock.ts';
import {
  electAs,
  makeClient,
  makePeers,
  makePki,
  removeDir,
  startTestEnclave,
  type TestEnclave,
  type TestPki,
  tempDir,
} from './fixture.ts';

const peers = makePeers(3);
const BUILT_IN = functionChecksum(readFileSync(BUILT_IN_FUNCTION_PATH));
const leaseCalls = (enclave: TestEnclave) =>
  enclave.logs.filter((l) => l.event === 'enclave.request' && String(l.path).match(/elect|renew|resign/));
const attestCalls = (enclave: TestEnclave) =>
  enclave.logs.filter((l) => l.event === 'enclave.request' && l.path === '/v1/attestation');

async function listen(handler: Parameters<typeof createServer>[1]): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe('EnclaveClient', () => {
  let pki: TestPki;
  let work: string;
  before(() => {
    pki = makePki();
    work = tempDir('client');
  });
  after(() => {
    removeDir(pki.dir);
    removeDir(work);
  });

  it('refuses an enclave running another function with E_ENCLAVE_UNTRUSTED and sends it nothing else', async () => {
    const tampered = join(work, 'tampered.js');
    const source = readFileSync(BUILT_IN_FUNCTION_PATH, 'utf8').replace(
      "case 'highest-id':",
      "case 'highest-id':\n        return 0;",
    );
    writeFileSync(tampered, source);
    const enclave = await startTestEnclave({ pki, functionPath: tampered, policy: 'highest-id' });
    try {
      assert.notEqual(enclave.service.checksum, BUILT_IN);
      const client = makeClient(enclave, pki, BUILT_IN);
      const peer = peers[0]!;
      const certificate = {
        compact: 'never.sent.anywhere',
        hash: 'none',
        claims: { epoch: 1, seq: 0, leader: { name: peer.name, key: peer.key } } as LeaderClaims,
      };
      for (const call of [
        () => electAs(client, peers[0]!),
        () => client.renew({ certificate, signer: peer.privateKey }),
        () => client.resign({ certificate, signer: peer.privateKey }),
      ]) {
        await assert.rejects(
          call(),
          (error: Error & { code?: string; expected?: string; received?: string }) => {
            assert.equal(error.code, 'E_ENCLAVE_UNTRUSTED');
            assert.equal(error.expected, BUILT_IN);
            assert.equal(error.received, enclave.service.checksum);
            assert.match(error.message, new RegExp(`${enclave.service.checksum}.*${BUILT_IN}`));
            return true;
          },
        );
      }
      assert.equal(attestCalls(enclave).length, 3);
      assert.deepEqual(leaseCalls(enclave), []);
      assert.equal(enclave.service.state.epoch, 0);
    } finally {
      await enclave.close();
      removeDir(enclave.stateDir);
    }
  });

  it('refuses an attestation chained to another root, even with that root in x5c', async () => {
    const otherPki = makePki();
    const enclave = await startTestEnclave({ pki: otherPki });
    try {
      const client = makeClient(enclave, pki, enclave.service.checksum);
      await assert.rejects(electAs(client, peers[0]!), {
        code: 'E_ATTESTATION_INVALID',
        message: /pinned root/,
      });
      assert.deepEqual(leaseCalls(enclave), []);
    } finally {
      await enclave.close();
      removeDir(enclave.stateDir);
      removeDir(otherPki.dir);
    }
  });

  it('uses a fresh 32-byte CSPRNG nonce per attestation and refuses a replayed document', async () => {
    const enclave = await startTestEnclave({ pki });
    const sizes: number[] = [];
    const client = makeClient(enclave, pki, enclave.service.checksum, {
      randomBytes: (size) => {
        sizes.push(size);
        return randomBytes(size);
      },
    });
    const captured = enclave.service.attest('ab'.repeat(32));
    const replay = await listen((_req, res) => res.writeHead(200).end(captured));
    try {
      await client.attest();
      await client.attest();
      assert.deepEqual(sizes, [32, 32]);
      const nonces = attestCalls(enclave).length;
      assert.equal(nonces, 2);
      const replayed = makeClient(replay, pki, enclave.service.checksum);
      await assert.rejects(replayed.attest(), { code: 'E_ATTESTATION_INVALID', message: /nonce not echoed/ });
    } finally {
      replay.server.close();
      await enclave.close();
      removeDir(enclave.stateDir);
    }
  });

  it('re-attests, unthrottled, when the enclave answers under a key not attested (a restart); caches verified certificates', async () => {
    const stateDir = tempDir('state');
    const clock = new ManualClock(0, Date.now());
    const first = await startTestEnclave({ pki, stateDir, clock, leaseMs: 1000, settleMs: 0 });
    const client = makeClient(first, pki, first.service.checksum, {
      reattestIntervalMs: 60_000,
      clock,
    });
    const granted = await electAs(client, peers[0]!);
    await first.close();
    clock.advance(1000);
    const second = await startTestEnclave({
      pki,
      stateDir,
      clock,
      leaseMs: 1000,
      port: first.port,
      settleMs: 0,
    });
    try {
      const next = await electAs(client, peers[0]!);
      assert.equal(next.claims.epoch, granted.claims.epoch + 1);
      assert.equal(next.claims.kid, second.service.kid);
      assert.equal(attestCalls(second).length, 1);
      assert.equal(client.attested?.kid, second.service.kid);
      const misses = client.verifier.misses;
      await client.verifyCertificate(next.compact);
      await client.verifyCertificate(granted.compact);
      assert.equal(client.verifier.misses, misses);
      assert.ok(client.verifier.hits >= 2);
    } finally {
      await second.close();
      removeDir(stateDir);
    }
  });

  it('after a failed attestation sends nothing but attestations: an attested enclave replaced by a tampered one gets one lease call', async () => {
    const first = await startTestEnclave({ pki });
    const client = makeClient(first, pki, first.service.checksum);
    await electAs(client, peers[0]!);
    await first.close();
    const tampered = join(work, 'replacement.js');
    writeFileSync(tampered, `${readFileSync(BUILT_IN_FUNCTION_PATH, 'utf8')}\n// another bundle\n`);
    const replacement = await startTestEnclave({ pki, functionPath: tampered, port: first.port });
    try {
      // The first request cannot know: it learns from the answer's key, re-attests and refuses.
      for (let i = 0; i < 3; i++) {
        await assert.rejects(electAs(client, peers[0]!), { code: 'E_ENCLAVE_UNTRUSTED' });
      }
      assert.equal(leaseCalls(replacement).length, 1);
      assert.equal(attestCalls(replacement).length, 3);
      assert.equal(client.attested, undefined);
    } finally {
      await replacement.close();
      removeDir(first.stateDir);
      removeDir(replacement.stateDir);
    }
  });

  it('re-attests on unknown kids at most once per interval', async () => {
    const enclave = await startTestEnclave({ pki });
    const client = makeClient(enclave, pki, enclave.service.checksum, { reattestIntervalMs: 60_000 });
    const other = await startTestEnclave({ pki });
    try {
      const foreign = await electAs(makeClient(other, pki, other.service.checksum), peers[0]!);
      await client.attest();
      for (let i = 0; i < 5; i++) {
        await assert.rejects(client.verifyCertificate(foreign.compact), { code: 'E_CERT_UNKNOWN_KID' });
      }
      assert.equal(attestCalls(enclave).length, 1);
    } finally {
      await enclave.close();
      await other.close();
      removeDir(enclave.stateDir);
      removeDir(other.stateDir);
    }
  });

  it('gives up after its timeout with E_TIMEOUT', async () => {
    const silent = await listen(() => {});
    try {
      const client = makeClient(silent, pki, BUILT_IN, { timeoutMs: 200, attestTimeoutMs: 200 });
      const started = Date.now();
      await assert.rejects(client.attest(), { code: 'E_TIMEOUT' });
      assert.ok(Date.now() - started < 2000);
    } finally {
      silent.server.closeAllConnections();
      silent.server.close();
    }
  });

  it('opens a fresh connection for every request (no pooled socket to go stale across a partition)', async () => {
    const busy = await listen((_req, res) => {
      res.writeHead(503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'E_SHUTTING_DOWN', message: 'the enclave is stopping' } }));
    });
    let connections = 0;
    busy.server.on('connection', () => connections++);
    try {
      const client = makeClient(busy, pki, BUILT_IN);
      for (let i = 0; i < 3; i++) await assert.rejects(client.attest(), { code: 'E_SHUTTING_DOWN' });
      assert.equal(connections, 3, 'one new connection per request');
    } finally {
      busy.server.closeAllConnections();
      busy.server.close();
    }
  });
  it('tells its observer the operation, outcome and latency of each request and the result of each verification', async () => {
    const enclave = await startTestEnclave({ pki });
    const requests: string[] = [];
    const verifications: string[] = [];
    try {
      const client = makeClient(enclave, pki, BUILT_IN, {
        observer: {
          enclaveRequest: (operation, outcome, seconds) => {
            assert.ok(seconds >= 0 && seconds < 5, `latency ${seconds} s`);
            requests.push(`${operation}:${outcome}`);
          },
          certificateVerified: (result, cached) => verifications.push(`${result}:${cached ? 'hit' : 'miss'}`),
        },
      });
      const lease = await electAs(client, peers[0]!);
      await client.verifyCertificate(lease.compact);
      await assert.rejects(
        client.renew({
          certificate: lease,
          signer: peers.find((p) => p.name !== lease.claims.leader.name)!.privateKey,
        }),
      );
      assert.deepEqual(requests, ['attest:ok', 'elect:ok', 'renew:refused']);
      assert.deepEqual(verifications, ['valid:miss', 'valid:hit']);
    } finally {
      await enclave.close();
      removeDir(enclave.stateDir);
    }
  });
});
