import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import type { LeaderClaims } from '../../src/crypto/leader-certificate.ts';
import { signLeaseRequest } from '../../src/enclave/lease-signature.ts';
import { ManualClock } from '../../src/time/clock.ts';
import {
  CLUSTER,
  entries,
  makeClient,
  makePeers,
  makePki,
  postJson,
  removeDir,
  startTestEnclave,
  type TestEnclave,
  type TestPeer,
  type TestPki,
} from './fixture.ts';

const LEASE_MS = 2000;
const peers = makePeers(6);
const byName = (name: string) => peers.find((p) => p.name === name)!;

function renewBody(claims: LeaderClaims, signer: TestPeer, leader = claims.leader.name) {
  const fields = { cluster_id: CLUSTER, epoch: claims.epoch, seq: claims.seq, leader };
  return { ...fields, sig: signLeaseRequest('renew', fields, signer.privateKey) };
}

function resignBody(claims: LeaderClaims, signer: TestPeer, members = entries(peers)) {
  const fields = {
    cluster_id: CLUSTER,
    epoch: claims.epoch,
    seq: claims.seq,
    leader: claims.leader.name,
    members,
  };
  return { ...fields, sig: signLeaseRequest('resign', fields, signer.privateKey) };
}

describe('election rules (DESIGN §5)', () => {
  let pki: TestPki;
  let clock: ManualClock;
  let enclave: TestEnclave;
  let client: ReturnType<typeof makeClient>;

  before(() => {
    pki = makePki();
  });
  after(() => removeDir(pki.dir));

  beforeEach(async () => {
    clock = new ManualClock();
    enclave = await startTestEnclave({ pki, clock, leaseMs: LEASE_MS });
    client = makeClient(enclave, pki, enclave.service.checksum);
  });
  afterEach(async () => {
    await enclave.close();
    removeDir(enclave.stateDir);
  });

  it('answers 100 concurrent elect calls with different member lists with one epoch and one leader', async () => {
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        client.elect({ members: entries(peers.slice(0, 1 + (i % peers.length))) }),
      ),
    );
    assert.equal(new Set(results.map((r) => r.compact)).size, 1);
    assert.equal(new Set(results.map((r) => r.claims.epoch)).size, 1);
    assert.equal(results[0]!.claims.epoch, 1);
    assert.equal(enclave.service.state.epoch, 1);
    assert.equal(enclave.logs.filter((l) => l.event === 'enclave.elected').length, 1);
  });

  it('returns the live certificate to later callers whatever view they send', async () => {
    const first = await client.elect({ members: entries(peers) });
    clock.advance(LEASE_MS - 1);
    const second = await client.elect({ members: entries(peers.slice(0, 1)) });
    assert.equal(second.compact, first.compact);
  });

  it('starts a new epoch without the previous leader once its lease simply ran out', async () => {
    const first = await client.elect({ members: entries(peers) });
    clock.advance(LEASE_MS);
    const second = await client.elect({ members: entries(peers) });
    assert.equal(second.claims.epoch, 2);
    assert.notEqual(second.claims.leader.name, first.claims.leader.name);
    assert.equal(second.claims.member_count, peers.length - 1);
    // A view holding only the old leader still elects it: a one-member cluster keeps a leader.
    clock.advance(LEASE_MS);
    const alone = entries([byName(second.claims.leader.name)]);
    const third = await client.elect({ members: alone });
    assert.equal(third.claims.epoch, 3);
    assert.equal(third.claims.leader.name, second.claims.leader.name);
  });

  it('starts above an epoch a caller has already seen', async () => {
    const result = await client.elect({ members: entries(peers), knownEpoch: 41 });
    assert.equal(result.claims.epoch, 42);
  });

  it('holds an elect with wait_ms until the lease ends, then answers with the next epoch', async () => {
    await client.elect({ members: entries(peers) });
    clock.advance(LEASE_MS - 300);
    const waiting = client.elect({ members: entries(peers), waitMs: 500 });
    while (clock.sleeping === 0) await new Promise((r) => setTimeout(r, 5));
    assert.equal(enclave.service.state.epoch, 1);
    clock.advance(300);
    const next = await waiting;
    assert.equal(next.claims.epoch, 2);
  });

  it('releases a held elect with the renewed certificate when the leader renews meanwhile', async () => {
    const first = await client.elect({ members: entries(peers) });
    clock.advance(LEASE_MS - 300);
    const waiting = client.elect({ members: entries(peers), waitMs: 500 });
    while (clock.sleeping === 0) await new Promise((r) => setTimeout(r, 5));
    const renewed = await client.renew({
      certificate: first,
      signer: byName(first.claims.leader.name).privateKey,
    });
    const answer = await waiting;
    assert.equal(answer.compact, renewed.compact);
    assert.equal(answer.claims.epoch, 1);
    assert.equal(answer.claims.seq, 1);
  });

  it('refuses a wait longer than the lease', async () => {
    const reply = await postJson(`${enclave.url}/v1/elect`, {
      cluster_id: CLUSTER,
      members: entries(peers),
      wait_ms: LEASE_MS + 1,
    });
    assert.equal(reply.status, 400);
    assert.equal(reply.body.error?.code, 'E_BAD_REQUEST');
  });

  it('renews the lease of the current leader, once per signed request', async () => {
    const first = await client.elect({ members: entries(peers) });
    const leader = byName(first.claims.leader.name);
    clock.advance(500);
    const body = renewBody(first.claims, leader);
    const ok = await postJson(`${enclave.url}/v1/renew`, body);
    assert.equal(ok.status, 200);
    const renewed = await client.verifyCertificate(ok.body.certificate!);
    assert.equal(renewed.claims.seq, 1);
    assert.equal(renewed.claims.epoch, 1);
    assert.equal(renewed.claims.lease_end, clock.wallNow() + LEASE_MS);
    const replay = await postJson(`${enclave.url}/v1/renew`, body);
    assert.equal(replay.status, 409);
    assert.equal(replay.body.error?.code, 'E_STALE_SEQUENCE');
  });

  it('refuses renew and resign from a non-leader, with a bad signature, or for another epoch', async () => {
    const { claims } = await client.elect({ members: entries(peers) });
    const leader = byName(claims.leader.name);
    const other = peers.find((p) => p.name !== leader.name)!;
    const before = enclave.service.state;
    const cases: [string, unknown, number, string][] = [
      ['/v1/renew', renewBody(claims, other, other.name), 403, 'E_NOT_LEADER'],
      ['/v1/renew', renewBody(claims, other), 403, 'E_BAD_SIGNATURE'],
      ['/v1/renew', { ...renewBody(claims, leader), seq: 1 }, 403, 'E_BAD_SIGNATURE'],
      ['/v1/renew', renewBody({ ...claims, epoch: 2 }, leader), 409, 'E_STALE_EPOCH'],
      ['/v1/resign', resignBody(claims, other), 403, 'E_BAD_SIGNATURE'],
      // A renew signature is not a resign signature.
      [
        '/v1/resign',
        { ...resignBody(claims, leader), sig: renewBody(claims, leader).sig },
        403,
        'E_BAD_SIGNATURE',
      ],
      ['/v1/renew', { ...renewBody(claims, leader), cluster_id: 'other' }, 409, 'E_CLUSTER_MISMATCH'],
    ];
    for (const [path, body, status, code] of cases) {
      const reply = await postJson(`${enclave.url}${path}`, body);
      assert.equal(reply.status, status, `${path} ${code}`);
      assert.equal(reply.body.error?.code, code);
    }
    assert.deepEqual(enclave.service.state, before);
  });

  it('on resign elects at once from the leaving leader’s view without it', async () => {
    const first = await client.elect({ members: entries(peers) });
    const leader = byName(first.claims.leader.name);
    const view = entries([...new Set([...peers.slice(0, 4), leader])]);
    const next = await client.resign({ certificate: first, signer: leader.privateKey, members: view });
    assert.ok(next);
    assert.equal(next.claims.epoch, 2);
    assert.notEqual(next.claims.leader.name, leader.name);
    assert.equal(next.claims.member_count, view.length - 1);
    // The old leader cannot renew the epoch it gave up.
    const late = await postJson(`${enclave.url}/v1/renew`, renewBody(first.claims, leader));
    assert.equal(late.status, 409);
  });

  it('ends the lease on a resign with nobody else in view; the next elect starts a new epoch', async () => {
    const first = await client.elect({ members: entries(peers) });
    const leader = byName(first.claims.leader.name);
    const none = await client.resign({
      certificate: first,
      signer: leader.privateKey,
      members: entries([leader]),
    });
    assert.equal(none, null);
    const next = await client.elect({ members: entries(peers) });
    assert.equal(next.claims.epoch, 2);
    assert.notEqual(next.claims.leader.name, leader.name);
  });
});
