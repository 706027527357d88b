// The demo ledger as a fenced resource: it accepts an append only with a valid
// token not older than the newest it has accepted, so a deposed leader's late
// write is refused (stale or expired) and counted; over HTTP each append is
// one log event; the writer appends with whatever token the peer hands it.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { LeaderCertificate } from '../../src/crypto/leader-certificate.ts';
import type { EnclaveClient } from '../../src/enclave/client/enclave-client.ts';
import { Ledger } from '../../src/ledger/ledger.ts';
import { startLedgerServer } from '../../src/ledger/ledger-server.ts';
import { runWriter } from '../../src/ledger/ledger-writer.ts';
import { createLogger } from '../../src/log/logger.ts';
import { encodeFencingToken } from '../../src/token/fencing-token.ts';
import { TokenVerifier } from '../../src/token/verify-token.ts';
import {
  CLUSTER,
  makeClient,
  makePeers,
  makePki,
  removeDir,
  standAll,
  startTestEnclave,
  TEST_KEY_BITS,
  type TestEnclave,
  type TestPeer,
  type TestPki,
} from '../enclave/fixture.ts';

const LEASE_MS = 1500;

describe('demo ledger', () => {
  let pki: TestPki;
  let enclave: TestEnclave;
  let client: EnclaveClient;
  const peers: TestPeer[] = makePeers(2);
  const tokenOf = (cert: LeaderCertificate) =>
    encodeFencingToken({ certificate: cert.compact, attestation: client.attestationFor(cert.claims.kid)! });
  const newLedger = () =>
    new Ledger(
      new TokenVerifier({
        root: pki.root,
        pinnedChecksum: enclave.service.checksum,
        clusterId: CLUSTER,
        minKeyBits: TEST_KEY_BITS,
      }),
    );
  const renew = (cert: LeaderCertificate) =>
    client.renew({
      certificate: cert,
      signer: peers.find((p) => p.name === cert.claims.leader.name)!.privateKey,
    });

  before(async () => {
    pki = makePki();
    enclave = await startTestEnclave({ pki, leaseMs: LEASE_MS });
    client = makeClient(enclave, pki, enclave.service.checksum);
  });
  after(async () => {
    await enclave.close();
    removeDir(enclave.stateDir);
    removeDir(pki.dir);
  });

  it('refuses a token older than the newest accepted, and the late write of a deposed leader', async () => {
    const ledger = newLedger();
    const elected = await standAll(client, peers);
    const renewed = await renew(elected);
    assert.equal(ledger.append(tokenOf(renewed), 'a').accepted, true);
    const older = ledger.append(tokenOf(elected), 'b');
    assert.deepEqual(older.accepted ? null : [older.code, older.epoch, older.seq], [
      'E_TOKEN_STALE',
      renewed.claims.epoch,
      0,
    ]);

    // The leader goes quiet; once its lease ends the enclave grants the next epoch.
    await new Promise((resolve) => setTimeout(resolve, renewed.claims.lease_end - Date.now() + 50));
    const successor = await standAll(client, peers, { knownEpoch: renewed.claims.epoch });
    assert.equal(successor.claims.epoch, renewed.claims.epoch + 1);
    const late = ledger.append(tokenOf(renewed), 'late write of the deposed leader');
    assert.equal(late.accepted ? null : late.code, 'E_TOKEN_EXPIRED');
    assert.equal(ledger.append(tokenOf(successor), 'c').accepted, true);
    assert.deepEqual(
      ledger.entries.map((e) => [e.entry, e.epoch]),
      [
        ['a', renewed.claims.epoch],
        ['c', successor.claims.epoch],
      ],
    );
    assert.deepEqual(Object.fromEntries(ledger.rejected), { E_TOKEN_STALE: 1, E_TOKEN_EXPIRED: 1 });
  });

  it('refuses a forged token and a missing or oversized entry', async () => {
    const ledger = newLedger();
    const lease = await standAll(client, peers);
    assert.equal(ledger.append('not-a-token', 'x').accepted, false);
    const [h, p, s] = lease.compact.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...claims, epoch: 999 })).toString('base64url')}.${s}`;
    const refused = ledger.append(
      encodeFencingToken({ certificate: forged, attestation: client.attestationFor(lease.claims.kid)! }),
      'x',
    );
    assert.equal(refused.accepted ? null : refused.code, 'E_TOKEN_INVALID');
    assert.equal(ledger.append(tokenOf(lease), 42).accepted, false);
    assert.equal(ledger.append(tokenOf(lease), 'x'.repeat(2000)).accepted, false);
    assert.equal(ledger.accepted, 0);
  });

  it('over HTTP answers 200 or 409 with the code, logs every append, and the writer appends with the peer token', async () => {
    const logs: Record<string, unknown>[] = [];
    const logger = createLogger({
      level: 'info',
      pretty: false,
      destination: { write: (line: string) => logs.push(JSON.parse(line) as Record<string, unknown>) },
    });
    const ledger = newLedger();
    const server = await startLedgerServer({ ledger, logger, host: '127.0.0.1', port: 0 });
    const lease = await standAll(client, peers);
    const token = tokenOf(lease);
    const peerApi = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ token, epoch: lease.claims.epoch, seq: lease.claims.seq }));
    });
    await new Promise<void>((resolve) => peerApi.listen(0, '127.0.0.1', resolve));
    try {
      const refused = await fetch(`${server.url}/v1/append`, {
        method: 'POST',
        body: JSON.stringify({ token: 'nope', entry: 'x' }),
      });
      assert.equal(refused.status, 409);
      assert.equal(((await refused.json()) as { error: { code: string } }).error.code, 'E_TOKEN_MALFORMED');

      const printed: string[] = [];
      const stop = new AbortController();
      const writing = runWriter({
        ledgerUrl: server.url,
        tokenUrl: `http://127.0.0.1:${(peerApi.address() as AddressInfo).port}/v1/token`,
        name: 'peer-x',
        intervalMs: 20,
        signal: stop.signal,
        print: (line) => printed.push(line),
      });
      const deadline = Date.now() + 5000;
      while (ledger.accepted < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      stop.abort();
      await writing;
      assert.ok(ledger.accepted >= 3, `accepted ${ledger.accepted}`);
      assert.deepEqual(JSON.parse(printed[0]!), {
        event: 'append',
        entry: 'peer-x#1',
        epoch: lease.claims.epoch,
        seq: lease.claims.seq,
        status: 200,
        code: null,
      });
      const stats = (await (await fetch(`${server.url}/v1/stats`)).json()) as {
        accepted: number;
        rejected: object;
      };
      assert.equal(stats.accepted, ledger.accepted);
      assert.deepEqual(stats.rejected, { E_TOKEN_MALFORMED: 1 });
      assert.equal(logs.filter((l) => l.event === 'ledger.accepted').length, ledger.accepted);
      assert.equal(logs.filter((l) => l.event === 'ledger.rejected').length, 1);
    } finally {
      peerApi.close();
      await server.close();
    }
  });
});
