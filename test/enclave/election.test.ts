import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import type { LeaderClaims } from '../../src/crypto/leader-certificate.ts';
import { signRequest } from '../../src/enclave/lease-signature.ts';
import { ManualClock } from '../../src/time/clock.ts';
import {
  CLUSTER,
  electAs,
  electBody,
  entries,
  makeClient,
  makePeers,
  makePki,
  postJson,
  removeDir,
  standAll,
  startTestEnclave,
  type TestEnclave,
  type TestPeer,
  type TestPki,
} from './fixture.ts';

const LEASE_MS = 2000;
const peers = makePeers(6);
const byName = (name: string) => peers.find((p) => p.name === name)!;

describe('election rules (DESIGN §5)', () => {
  let pki: TestPki;
  let clock: ManualClock;
  let enclave: TestEnclave;
  let client: ReturnType<typeof makeClient>;
  const stand = (who: readonly TestPeer[], options: { knownEpoch?: number; waitMs?: number } = {}) =>
    standAll(client, who, options, { enclave, clock });

  before(() => {
    pki = makePki();
  });
  after(() => removeDir(pki.dir));

  beforeEach(async () => {
    clock = new ManualClock(0, Date.now());
    // A candidacy counts for one lease here, so each test says exactly who stands.
    enclave = await startTestEnclave({ pki, clock, leaseMs: LEASE_MS, candidacyWindowMs: LEASE_MS });
    client = makeClient(enclave, pki, enclave.service.checksum, { clock });
  });
  afterEach(async () => {
    await enclave.close();
    removeDir(enclave.stateDir);
  });

  it('answers 100 concurrent elect calls from the members with one epoch and one leader', async () => {
    const crowd = Array.from({ length: 100 }, (_, i) => peers[i % peers.length]!);
    const first = await stand(crowd);
    const results = await Promise.all(crowd.map((peer) => electAs(client, peer)));
    assert.equal(new Set([first.compact, ...results.map((r) => r.compact)]).size, 1);
    assert.equal(first.claims.epoch, 1);
    assert.equal(first.claims.member_count, peers.length);
    assert.equal(enclave.service.state.epoch, 1);
    assert.equal(enclave.logs.filter((l) => l.event === 'enclave.elected').length, 1);
  });

  it('returns the live certificate to later callers', async () => {
    const first = await stand(peers);
    clock.advance(LEASE_MS - 1);
    const second = await electAs(client, peers[0]!);
    assert.equal(second.compact, first.compact);
  });

  it('waits a settle delay after the first candidacy, so members asking together all stand', async () => {
    const lone = electAs(client, peers[0]!);
    while (clock.sleeping === 0) await new Promise((r) => setTimeout(r, 2));
    assert.equal(enclave.service.state.epoch, 0);
    const second = electAs(client, peers[1]!);
    while (enclave.service.candidaciesReceived < 2) await new Promise((r) => setTimeout(r, 2));
    clock.advance(enclave.service.candidacySettleMs);
    const [a, b] = await Promise.all([lone, second]);
    assert.equal(a.compact, b.compact);
    assert.equal(a.claims.member_count, 2);
  });

  it('starts a new epoch without the previous leader once its lease simply ran out', async () => {
    const first = await stand(peers);
    clock.advance(LEASE_MS + 1);
    const second = await stand(peers);
    assert.equal(second.claims.epoch, 2);
    assert.notEqual(second.claims.leader.name, first.claims.leader.name);
    assert.equal(second.claims.member_count, peers.length - 1);
    // When only the old leader stands it is elected again: a one-member cluster keeps a leader.
    clock.advance(LEASE_MS + 1);
    const third = await stand([byName(second.claims.leader.name)]);
    assert.equal(third.claims.epoch, 3);
    assert.equal(third.claims.leader.name, second.claims.leader.name);
  });

  it('counts candidacies only within the window before the election', async () => {
    const first = await stand(peers);
    clock.advance(LEASE_MS + 1);
    // Only two stand now: the others' candidacies of epoch 1 are older than the window.
    const two = peers.slice(0, 2);
    const next = await stand(two);
    const expected = two.filter((p) => p.name !== first.claims.leader.name);
    assert.deepEqual(next.candidates, entries(expected.length > 0 ? expected : two));
  });

  it('re-elects a lone leader whose lease ran out while its own request was held', async () => {
    const [alone] = peers;
    await stand([alone!]);
    clock.advance(LEASE_MS - 300);
    const held = electAs(client, alone!, { waitMs: 500 });
    while (clock.sleeping === 0) await new Promise((r) => setTimeout(r, 5));
    clock.advance(300);
    const next = await held;
    assert.equal(next.claims.epoch, 2);
    assert.equal(next.claims.leader.name, alone!.name);
  });

  it('starts above an epoch a caller has already seen', async () => {
    const result = await stand(peers, { knownEpoch: 41 });
    assert.equal(result.claims.epoch, 42);
  });

  it('holds an elect with wait_ms until the lease ends, then answers with the next epoch', async () => {
    await stand(peers);
    clock.advance(LEASE_MS - 300);
    const waiting = electAs(client, peers[0]!, { waitMs: 500 });
    while (clock.sleeping === 0) await new Promise((r) => setTimeout(r, 5));
    assert.equal(enclave.service.state.epoch, 1);
    clock.advance(300);
    const next = await waiting;
    assert.equal(next.claims.epoch, 2);
  });

  it('releases a held elect with the renewed certificate when the leader renews meanwhile', async () => {
    const first = await stand(peers);
    clock.advance(LEASE_MS - 300);
    const waiting = electAs(client, peers[0]!, { waitMs: 500 });
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
    const reply = await postJson(
      `${enclave.url}/v1/elect`,
      electBody(peers[0]!, { wait_ms: LEASE_MS + 1, ts: clock.wallNow() }),
    );
    assert.equal(reply.status, 400);
    assert.equal(reply.body.error?.code, 'E_BAD_REQUEST');
  });

  it('renews the lease of the current leader, once per signed request', async () => {
    const first = await stand(peers);
    const leader = byName(first.claims.leader.name);
    clock.advance(500);
    const signedNow = renewBodyAt(first.claims, leader, clock.wallNow());
    const ok = await postJson(`${enclave.url}/v1/renew`, signedNow);
    assert.equal(ok.status, 200);
    const { claims: renewed } = await client.verifyCertificate(ok.body.certificate!);
    assert.equal(renewed.seq, 1);
    assert.equal(renewed.epoch, 1);
    assert.equal(renewed.lease_end, clock.wallNow() + LEASE_MS);
    const replay = await postJson(`${enclave.url}/v1/renew`, signedNow);
    assert.equal(replay.status, 409);
    assert.equal(replay.body.error?.code, 'E_STALE_SEQUENCE');
  });

  it('refuses renew and resign from a non-leader, with a bad signature, or for another epoch', async () => {
    const { claims } = await stand(peers);
    const leader = byName(claims.leader.name);
    const other = peers.find((p) => p.name !== leader.name)!;
    const before = enclave.service.state;
    const at = clock.wallNow();
    const cases: [string, unknown, number, string][] = [
      ['/v1/renew', renewBodyAt(claims, other, at, other.name), 403, 'E_NOT_LEADER'],
      ['/v1/renew', renewBodyAt(claims, other, at), 403, 'E_BAD_SIGNATURE'],
      ['/v1/renew', { ...renewBodyAt(claims, leader, at), seq: 1 }, 403, 'E_BAD_SIGNATURE'],
      ['/v1/renew', renewBodyAt({ ...claims, epoch: 2 }, leader, at), 409, 'E_STALE_EPOCH'],
      ['/v1/renew', renewBodyAt(claims, leader, at - 60_000), 403, 'E_STALE_REQUEST'],
      ['/v1/resign', leaseBodyAt('resign', claims, other, at), 403, 'E_BAD_SIGNATURE'],
      // A renew signature is not a resign signature.
      ['/v1/resign', renewBodyAt(claims, leader, at), 403, 'E_BAD_SIGNATURE'],
      ['/v1/renew', { ...renewBodyAt(claims, leader, at), cluster_id: 'other' }, 409, 'E_CLUSTER_MISMATCH'],
    ];
    for (const [path, body, status, code] of cases) {
      const reply = await postJson(`${enclave.url}${path}`, body);
      assert.equal(reply.status, status, `${path} ${code}`);
      assert.equal(reply.body.error?.code, code);
    }
    assert.deepEqual(enclave.service.state, before);
  });

  it('on resign elects at once from the enclave’s candidates without the leaving leader', async () => {
    const first = await stand(peers);
    const leader = byName(first.claims.leader.name);
    const next = await client.resign({ certificate: first, signer: leader.privateKey });
    assert.ok(next);
    assert.equal(next.claims.epoch, 2);
    assert.notEqual(next.claims.leader.name, leader.name);
    assert.equal(next.claims.member_count, peers.length - 1);
    // The old leader cannot renew the epoch it gave up.
    const late = await postJson(
      `${enclave.url}/v1/renew`,
      renewBodyAt(first.claims, leader, clock.wallNow()),
    );
    assert.equal(late.status, 409);
  });

  it('ends the lease on a resign with nobody else standing; the next elect starts a new epoch', async () => {
    const [alone] = peers;
    const first = await stand([alone!]);
    const none = await client.resign({ certificate: first, signer: alone!.privateKey });
    assert.equal(none, null);
    clock.advance(LEASE_MS + 1);
    const next = await stand(peers);
    assert.equal(next.claims.epoch, 2);
    assert.notEqual(next.claims.leader.name, alone!.name);
  });
});

function leaseBodyAt(
  op: 'renew' | 'resign',
  claims: LeaderClaims,
  signer: TestPeer,
  ts: number,
  leader = claims.leader.name,
) {
  const fields = {
    cluster_id: CLUSTER,
    epoch: claims.epoch,
    seq: claims.seq,
    leader,
    ts,
    nonce: randomBytes(16).toString('hex'),
  };
  return { ...fields, sig: signRequest(op, fields, signer.privateKey) };
}

function renewBodyAt(claims: LeaderClaims, signer: TestPeer, ts: number, leader?: string) {
  return leaseBodyAt('renew', claims, signer, ts, leader);
}
