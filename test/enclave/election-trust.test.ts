// Issue 14's attacks on the election, each as a specification of the refusal:
// the enclave, not any caller, decides who stands and who leads.
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import {
  certificateMatchesMembers,
  type LeaderCertificate,
  type LeaderClaims,
} from '../../src/crypto/leader-certificate.ts';
import { sortMembers } from '../../src/crypto/member-digest.ts';
import { createJoinSecret, loadJoinSecret } from '../../src/enclave/join-secret.ts';
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
  type TestPki,
  tempDir,
} from './fixture.ts';

const LEASE_MS = 2000;
const members = makePeers(5, 'member');
const [mallory] = makePeers(1, 'mallory');
const byName = (name: string) => members.find((p) => p.name === name)!;
/** The signed fields of a renew or resign of `claims`' lease. */
const leaseFields = (claims: LeaderClaims, ts: number, nonce: string) => ({
  cluster_id: CLUSTER,
  epoch: claims.epoch,
  seq: claims.seq,
  leader: claims.leader.name,
  ts,
  nonce,
});

describe('the enclave owns the election (issue 14)', () => {
  let pki: TestPki;
  let joinDir: string;
  let clock: ManualClock;
  let enclave: TestEnclave;
  let client: ReturnType<typeof makeClient>;

  before(() => {
    pki = makePki();
    joinDir = tempDir('join');
    createJoinSecret(joinDir);
  });
  after(() => {
    removeDir(pki.dir);
    removeDir(joinDir);
  });

  beforeEach(async () => {
    clock = new ManualClock(0, Date.now());
    enclave = await startTestEnclave({
      pki,
      clock,
      leaseMs: LEASE_MS,
      joinSecretPath: joinDir,
      // Every test member connects from 127.0.0.1.
      identitiesPerAddress: 16,
      maxTermMs: 10 * LEASE_MS,
    });
    client = makeClient(enclave, pki, enclave.service.checksum, { clock });
    const joinSecret = loadJoinSecret(joinDir);
    for (const m of members) await client.admit({ name: m.name, signer: m.privateKey, joinSecret });
  });
  afterEach(async () => {
    await enclave.close();
    removeDir(enclave.stateDir);
  });

  const post = (path: string, body: unknown) => postJson(`${enclave.url}${path}`, body);
  const now = () => clock.wallNow();
  const elected = () => enclave.logs.filter((l) => l.event === 'enclave.elected');

  it('refuses an outsider: an elect signed by a key nobody admitted is 403 E_NOT_ADMITTED and changes nothing', async () => {
    const before = enclave.service.state;
    const reply = await post('/v1/elect', electBody(mallory!, { ts: now() }));
    assert.equal(reply.status, 403);
    assert.equal(reply.body.error?.code, 'E_NOT_ADMITTED');
    assert.deepEqual(enclave.service.state, before);
    // And it did not stand: the next election has admitted candidates only.
    const lease = await standAll(client, [members[0]!], {}, { enclave, clock });
    assert.deepEqual(lease.candidates, entries([members[0]!]));
  });

  it('refuses the first version’s unsigned elect naming a made-up member with 401 E_UNSIGNED', async () => {
    const reply = await post('/v1/elect', {
      cluster_id: CLUSTER,
      members: [{ name: mallory!.name, key: mallory!.key }],
      wait_ms: 500,
    });
    assert.equal(reply.status, 401);
    assert.equal(reply.body.error?.code, 'E_UNSIGNED');
    assert.equal(enclave.service.state.epoch, 0);
  });

  it('refuses an admitted member standing under another member’s name, with its own key or without the other’s', async () => {
    const [alice, bob] = members;
    const ownKey = await post('/v1/elect', electBody({ ...alice!, name: bob!.name }, { ts: now() }));
    assert.equal(ownKey.status, 403);
    assert.equal(ownKey.body.error?.code, 'E_NOT_ADMITTED');
    const forged = electBody({ ...alice!, name: bob!.name, key: bob!.key }, { ts: now() });
    const stolen = await post('/v1/elect', forged);
    assert.equal(stolen.status, 403);
    assert.equal(stolen.body.error?.code, 'E_BAD_SIGNATURE');
    assert.equal(enclave.service.state.epoch, 0);
  });

  it('refuses a replayed elect (E_REPLAYED) and one outside the time window (E_STALE_REQUEST)', async () => {
    const body = electBody(members[0]!, { ts: now() });
    const first = post('/v1/elect', body);
    while (enclave.service.candidaciesReceived === 0) await new Promise((r) => setTimeout(r, 2));
    clock.advance(enclave.service.candidacySettleMs);
    assert.equal((await first).status, 200);
    const replay = await post('/v1/elect', body);
    assert.equal(replay.status, 403);
    assert.equal(replay.body.error?.code, 'E_REPLAYED');
    const stale = await post('/v1/elect', electBody(members[1]!, { ts: now() - 60_000 }));
    assert.equal(stale.status, 403);
    assert.equal(stale.body.error?.code, 'E_STALE_REQUEST');
  });

  it('takes no candidate list from a caller: a members field is refused, and the candidates are who stood', async () => {
    const [alice] = members;
    const withList = { ...electBody(alice!, { ts: now() }), members: entries([alice!]) };
    const refused = await post('/v1/elect', withList);
    assert.equal(refused.status, 400);
    assert.equal(refused.body.error?.code, 'E_UNKNOWN_FIELD');
    const lease = await standAll(client, members, {}, { enclave, clock });
    assert.equal(lease.claims.member_count, members.length);
    assert.deepEqual(lease.candidates, sortMembers(entries(members)));
  });

  it('keeps every member who stood in the candidates when one submits “only itself” at the lease end', async () => {
    const first = await standAll(client, members, {}, { enclave, clock });
    const leader = first.claims.leader.name;
    const others = members.filter((m) => m.name !== leader);
    clock.advance(LEASE_MS - 300);
    // The honest followers ask ahead and are held; the attacker races in at the end, alone.
    const held = others.slice(1).map((m) => electAs(client, m, { waitMs: 500 }));
    while (clock.sleeping < held.length) await new Promise((r) => setTimeout(r, 5));
    clock.advance(300);
    const raced = await electAs(client, others[0]!);
    const answers = await Promise.all(held);
    assert.ok(answers.every((a) => a.compact === raced.compact));
    assert.equal(raced.claims.epoch, 2);
    // Everyone still stands: the racer's lone request removes nobody's candidacy.
    assert.deepEqual(raced.candidates, sortMembers(entries(others)));
  });

  it('keeps a member that stood standing through elections it does not ask in, within the window', async () => {
    const first = await standAll(client, members, {}, { enclave, clock });
    clock.advance(LEASE_MS + 1);
    // Only one member asks at this lease end; the others' candidacies still count.
    const next = await standAll(
      client,
      [members.find((m) => m.name !== first.claims.leader.name)!],
      {},
      { enclave, clock },
    );
    const stillStanding = members.filter((m) => m.name !== first.claims.leader.name);
    assert.deepEqual(next.candidates, sortMembers(entries(stillStanding)));
    // The leader whose lease ran out unrenewed lost its standing: it is no candidate in the next one either.
    clock.advance(LEASE_MS + 1);
    const third = await standAll(
      client,
      // One that led neither epoch asks: the first leader does not stand again by asking itself.
      [members.find((m) => m.name !== next.claims.leader.name && m.name !== first.claims.leader.name)!],
      {},
      { enclave, clock },
    );
    assert.ok(third.candidates?.every((m) => m.name !== first.claims.leader.name));
    assert.equal(third.candidates?.length, members.length - 2);
  });

  it('proves its choice: anyone with the candidates checks digest, VRF index and the leader’s key', async () => {
    const lease = await standAll(client, members, {}, { enclave, clock });
    assert.ok(lease.candidates);
    assert.equal(certificateMatchesMembers(lease.claims, lease.candidates), true);
    const chosen = lease.candidates[lease.claims.leader_index]!;
    assert.deepEqual(chosen, lease.claims.leader);
    // A list with one member swapped or left out does not match.
    assert.equal(certificateMatchesMembers(lease.claims, lease.candidates.slice(1)), false);
    const swapped = lease.candidates.map((m, i) => (i === 0 ? { ...m, key: mallory!.key } : m));
    assert.equal(certificateMatchesMembers(lease.claims, swapped), false);
  });

  it('on resign hands over to the enclave’s candidates without the leader; a resigning leader names no successor', async () => {
    const first = await standAll(client, members, {}, { enclave, clock });
    const leader = byName(first.claims.leader.name);
    const fields = leaseFields(first.claims, now(), 'ab'.repeat(16));
    const steer = { ...fields, members: entries([members.find((m) => m !== leader)!]) };
    const steered = await post('/v1/resign', {
      ...steer,
      sig: signRequest('resign', fields, leader.privateKey),
    });
    assert.equal(steered.status, 400);
    assert.equal(steered.body.error?.code, 'E_UNKNOWN_FIELD');
    const next = await client.resign({ certificate: first, signer: leader.privateKey });
    assert.ok(next);
    assert.equal(next.claims.epoch, 2);
    assert.notEqual(next.claims.leader.name, leader.name);
    assert.deepEqual(next.candidates, sortMembers(entries(members.filter((m) => m !== leader))));
  });

  it('refuses renewals forged by anyone but the leader, and a replayed renewal', async () => {
    const first = await standAll(client, members, {}, { enclave, clock });
    const leader = byName(first.claims.leader.name);
    const fields = leaseFields(first.claims, now(), 'cd'.repeat(16));
    const forged = await post('/v1/renew', {
      ...fields,
      sig: signRequest('renew', fields, mallory!.privateKey),
    });
    assert.equal(forged.status, 403);
    assert.equal(forged.body.error?.code, 'E_BAD_SIGNATURE');
    const body = { ...fields, sig: signRequest('renew', fields, leader.privateKey) };
    assert.equal((await post('/v1/renew', body)).status, 200);
    const replay = await post('/v1/renew', body);
    assert.ok(replay.status === 403 || replay.status === 409, `replay answered ${replay.status}`);
    assert.equal(enclave.service.state.lease?.seq, 1);
  });

  it('never grants an outsider holding 8 waiting elects, however many leases end', async () => {
    let lease = await standAll(client, members, {}, { enclave, clock });
    for (let round = 0; round < 3; round += 1) {
      const attack = Array.from({ length: 8 }, () =>
        post('/v1/elect', electBody(mallory!, { ts: now(), wait_ms: LEASE_MS })),
      );
      clock.advance(LEASE_MS - 300);
      const alive = members.filter((m) => m.name !== lease.claims.leader.name);
      const held = alive.map((m) => electAs(client, m, { waitMs: 500 }));
      while (clock.sleeping < held.length) await new Promise((r) => setTimeout(r, 5));
      clock.advance(300);
      lease = (await Promise.all(held))[0]!;
      for (const reply of await Promise.all(attack)) assert.equal(reply.body.error?.code, 'E_NOT_ADMITTED');
      assert.ok(members.some((m) => m.name === lease.claims.leader.name));
    }
    assert.ok(elected().every((l) => l.leader !== mallory!.name));
  });

  it('with --max-term refuses renewals past the term (E_MAX_TERM) and elects a successor without the leader', async () => {
    const first = await standAll(client, members, {}, { enclave, clock });
    const leader = byName(first.claims.leader.name);
    let held: LeaderCertificate = first;
    // The term started when the settle delay ended; renew until just before it is up.
    for (let t = LEASE_MS / 4; t < 10 * LEASE_MS; t += LEASE_MS / 4) {
      clock.advance(LEASE_MS / 4);
      held = await client.renew({ certificate: held, signer: leader.privateKey });
    }
    clock.advance(LEASE_MS / 4);
    await assert.rejects(client.renew({ certificate: held, signer: leader.privateKey }), {
      code: 'E_MAX_TERM',
    });
    clock.advance(LEASE_MS);
    const next = await standAll(client, members, {}, { enclave, clock });
    assert.equal(next.claims.epoch, 2);
    assert.notEqual(next.claims.leader.name, leader.name);
  });
});
