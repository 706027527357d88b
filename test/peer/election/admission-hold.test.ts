// The peer-side admission check (issue 14) without the liveness bug it once
// had: a certificate whose leader this peer's admission book does not (yet)
// admit with that key is refused and held, and adopted on the first tick after
// the book admits it; one naming a key the book contradicts (the name admitted
// with another key) is never adopted; one naming a member the book knows
// nothing of is taken on the enclave's word after the grace, and counted.
// The election shell, the real enclave service in-process, one ManualClock.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { EnclaveClient } from '../../../src/enclave/client/enclave-client.ts';
import type { EnclaveService } from '../../../src/enclave/enclave-service.ts';
import { initPki, loadRootCertificate } from '../../../src/enclave/pki.ts';
import { createLogger } from '../../../src/log/logger.ts';
import {
  AdmissionHold,
  MAX_HELD_EPOCHS,
  UNKNOWN_NAME_GRACE_MS,
} from '../../../src/peer/election/admission-hold.ts';
import { encodeFullCertificate, encodeRenewal } from '../../../src/peer/election/certificate-wire.ts';
import { PeerElection } from '../../../src/peer/election/peer-election.ts';
import { DEFAULT_ELECTION_TIMING } from '../../../src/peer/election/timing.ts';
import { MANUAL_WALL_START, ManualClock } from '../../../src/time/clock.ts';
import {
  CLUSTER,
  makePeers,
  removeDir,
  TEST_KEY_BITS,
  type TestPeer,
  tempDir,
} from '../../enclave/fixture.ts';
import { inProcessEnclave, inProcessFetch } from '../support/in-process-enclave.ts';
import { testCertificate } from './certificates.ts';
import { fakeNode } from './fake-node.ts';

const TICK_MS = 50;

/** Let the promise chains the last timers started finish before time moves on. */
async function settle(): Promise<void> {
  for (let i = 0; i < 6; i++) await new Promise((resolve) => setImmediate(resolve));
}

describe('peer-side admission check: hold, then adopt once admitted', () => {
  let dir: string;
  before(() => {
    dir = tempDir('admission-hold');
    initPki(`${dir}/pki`, { keyBits: TEST_KEY_BITS, now: new Date(MANUAL_WALL_START) });
  });
  after(() => removeDir(dir));

  let run = 0;
  /** A follower shell whose book admits exactly the (name, key) pairs in `book`. */
  function follower(self: TestPeer, others: TestPeer[], options: { joined?: boolean } = {}) {
    run += 1;
    const clock = new ManualClock();
    const service: EnclaveService = inProcessEnclave({
      pkiDir: `${dir}/pki`,
      stateDir: `${dir}/state-${run}`,
      clock,
      policy: 'highest-id',
      leaseMs: 2000,
    });
    let reachable = true;
    const fetch = inProcessFetch(service, () => reachable);
    const root = loadRootCertificate(`${dir}/pki`);
    /** The admission book: name -> admitted key and when that admission was issued (wall ms). */
    const book = new Map<string, { key: string; iat: number }>();
    const lines: Record<string, unknown>[] = [];
    const fake = fakeNode(self, others);
    const election = new PeerElection({
      node: fake.node,
      signer: self.privateKey,
      enclaveUrl: 'http://enclave.test',
      root,
      pinnedChecksum: service.checksum,
      clusterId: CLUSTER,
      timing: DEFAULT_ELECTION_TIMING,
      // Unless told otherwise not joined: it never asks the enclave, so only gossip and the hold move it.
      joined: () => options.joined === true,
      logger: createLogger({
        destination: { write: (line: string) => lines.push(JSON.parse(line)) },
        level: 'info',
        base: {},
      }),
      minKeyBits: TEST_KEY_BITS,
      clock,
      seed: 1,
      fetch,
      tickMs: TICK_MS,
      // As start-peer.ts asks the real book.
      admission: (name, key, issuedAt) => {
        const held = book.get(name);
        if (held?.key === key) return 'admitted';
        return held !== undefined && held.iat > issuedAt ? 'other-key' : 'unknown';
      },
    });
    const enclaveClient = new EnclaveClient({
      url: 'http://enclave.test',
      root,
      pinnedChecksum: service.checksum,
      clusterId: CLUSTER,
      minKeyBits: TEST_KEY_BITS,
      clock,
      fetch,
    });
    const gossip = async (key: 'epoch' | 'lease', payload: Uint8Array) => {
      fake.emit({ event: 'broadcast.received', topic: 'leader', key, payload, from: 'gossip' });
      await settle();
    };
    const tick = async (ticks = 1) => {
      for (let i = 0; i < ticks; i++) {
        clock.advance(TICK_MS);
        await settle();
      }
    };
    const admit = (peer: TestPeer, key = peer.key) => book.set(peer.name, { key, iat: clock.wallNow() });
    /** Cut this peer off the enclave: from then on only what it holds can move it. */
    const cut = () => {
      reachable = false;
    };
    return { clock, election, enclaveClient, gossip, tick, admit, cut, lines };
  }

  /** A follower that admits only itself, to which the leader's certificate is gossiped. */
  async function leaderGossipedBeforeItsAdmission() {
    const [self, leader] = makePeers(2);
    const f = follower(self!, [leader!]);
    f.admit(self!);
    f.election.start();
    const granted = await f.enclaveClient.elect({ name: leader!.name, signer: leader!.privateKey });
    await f.gossip('epoch', encodeFullCertificate(granted.compact));
    return { f, leader: leader!, granted };
  }

  it('a certificate that arrives before its leader’s admission is adopted on the tick after the admission lands', async () => {
    const { f, leader, granted } = await leaderGossipedBeforeItsAdmission();

    await f.tick(3);
    assert.equal(f.election.election.status().certificate, null, 'refused while the book lacks the leader');
    assert.equal(f.election.droppedCertificates().notAdmitted, 1);
    assert.ok(f.lines.some((l) => l.event === 'certificate.rejected' && l.reason === 'E_CERT_NOT_ADMITTED'));

    f.admit(leader!);
    await f.tick();
    assert.equal(f.election.election.status().certificate?.hash, granted.hash, 'adopted at once');
    assert.ok(f.lines.some((l) => l.event === 'certificate.admitted' && l.leader === leader!.name));
    assert.ok(f.lines.some((l) => l.event === 'certificate.accepted' && l.epoch === granted.claims.epoch));
    f.election.stop();
  });

  it('keeps the latest renewal of a held epoch (gossiped as a delta) and adopts that one', async () => {
    const [self, leader] = makePeers(2);
    const f = follower(self!, [leader!]);
    f.election.start();
    const granted = await f.enclaveClient.elect({ name: leader!.name, signer: leader!.privateKey });
    await f.gossip('epoch', encodeFullCertificate(granted.compact));
    f.clock.advance(500);
    const renewed = await f.enclaveClient.renew({ certificate: granted, signer: leader!.privateKey });
    const delta = encodeRenewal(renewed.compact, granted.compact);
    assert.ok(delta, 'a renewal travels as a delta against its epoch’s certificate');
    await f.gossip('lease', delta);

    f.admit(leader!);
    await f.tick();
    assert.equal(f.election.election.status().certificate?.claims.seq, renewed.claims.seq);
    assert.equal(f.election.droppedCertificates().notAdmitted, 2, 'each sequence was refused once');
    f.election.stop();
  });

  it('a restarted leader’s new key: held while the book has the (older) old key, adopted when the new admission replaces it', async () => {
    const [self, leader] = makePeers(2);
    const f = follower(self!, [leader!]);
    const [restarted] = makePeers(1); // same name, new key
    const newLeader = { ...restarted!, name: leader!.name };
    f.admit(leader!); // the book holds the old key
    f.election.start();
    const granted = await f.enclaveClient.elect({ name: newLeader.name, signer: newLeader.privateKey });
    assert.equal(granted.claims.leader.key, newLeader.key);

    await f.gossip('epoch', encodeFullCertificate(granted.compact));
    await f.tick(5);
    assert.equal(
      f.election.election.status().certificate,
      null,
      'the old key does not vouch for the new one',
    );
    f.admit(newLeader);
    await f.tick();
    assert.equal(f.election.election.status().certificate?.hash, granted.hash);
    f.election.stop();
  });

  it('the enclave’s own answer naming a leader not yet admitted is held the same way', async () => {
    const [self, leader] = makePeers(2);
    const f = follower(self!, [leader!], { joined: true });
    f.admit(self!);
    const granted = await f.enclaveClient.elect({ name: leader!.name, signer: leader!.privateKey });
    f.election.start();
    await f.tick(2); // it asks; the enclave answers with the live lease of `leader`
    assert.equal(f.election.election.status().certificate, null);
    assert.ok(
      f.lines.some((l) => l.event === 'enclave.request_failed' && l.code === 'E_CERT_NOT_ADMITTED'),
      'the answer is refused like a gossiped one',
    );
    f.cut(); // so the certificate can come only from the hold, not from asking again
    f.admit(leader!);
    await f.tick();
    assert.equal(f.election.election.status().certificate?.hash, granted.hash);
    f.election.stop();
  });

  it('a certificate naming a key the book contradicts is never adopted, and is counted', async () => {
    const [self, leader, stranger] = makePeers(3);
    const f = follower(self!, [leader!]);
    f.admit(self!);
    f.admit(leader!);
    f.election.start();
    const foreign = await f.enclaveClient.elect({ name: stranger!.name, signer: stranger!.privateKey });
    f.clock.advance(10);
    f.admit(stranger!, leader!.key); // after the certificate, the book admits that name with another key

    await f.gossip('epoch', encodeFullCertificate(foreign.compact));
    await f.gossip('epoch', encodeFullCertificate(foreign.compact)); // verified once: counted once
    await f.tick(200); // 10 s: five leases
    assert.equal(f.election.election.status().certificate, null);
    assert.deepEqual(
      {
        rejected: f.election.droppedCertificates().rejected,
        notAdmitted: f.election.droppedCertificates().notAdmitted,
      },
      { rejected: 1, notAdmitted: 1 },
    );
    assert.ok(!f.lines.some((l) => l.event === 'certificate.admitted'));
    assert.equal(f.election.droppedCertificates().adoptedUnchecked, 0);
    f.election.stop();
  });

  it(`a certificate naming a member the book knows nothing of is adopted on the enclave's word after ${UNKNOWN_NAME_GRACE_MS} ms, and counted`, async () => {
    const { f, granted } = await leaderGossipedBeforeItsAdmission();
    await f.tick(UNKNOWN_NAME_GRACE_MS / TICK_MS - 2);
    assert.equal(f.election.election.status().certificate, null, 'held during the grace');
    await f.tick(3);
    assert.equal(
      f.election.election.status().certificate?.hash,
      granted.hash,
      'adopted once the grace is over',
    );
    assert.equal(f.election.droppedCertificates().adoptedUnchecked, 1);
    assert.ok(f.lines.some((l) => l.event === 'certificate.admitted' && l.checked === false));
    f.election.stop();
  });
});

describe('AdmissionHold (the bound)', () => {
  const certificate = ({ epoch, seq }: { epoch: number; seq: number }) =>
    testCertificate({
      clusterId: CLUSTER,
      epoch,
      seq,
      leader: 'peer-001',
      leaderKey: 'k',
      policy: 'highest-id',
      issuedAt: 0,
      leaseEndsAt: 2000,
    });
  const admitsNobody = () => 'other-key' as const;
  const admitsEveryone = () => 'admitted' as const;

  it(`keeps the latest sequence of each epoch, for at most ${MAX_HELD_EPOCHS} epochs (the newest)`, () => {
    const hold = new AdmissionHold();
    for (let epoch = 1; epoch <= MAX_HELD_EPOCHS + 2; epoch++) {
      hold.hold(certificate({ epoch, seq: 1 }), 0);
      hold.hold(certificate({ epoch, seq: 3 }), 0);
      hold.hold(certificate({ epoch, seq: 2 }), 0);
    }
    assert.equal(hold.size, MAX_HELD_EPOCHS);
    assert.equal(hold.base(1), undefined, 'the oldest epochs went first');
    assert.equal(hold.base(MAX_HELD_EPOCHS + 2)?.claims.seq, 3, 'an older sequence never replaces a newer');
    assert.deepEqual(hold.release(admitsNobody, null, 0), []);
    assert.equal(hold.size, MAX_HELD_EPOCHS, 'held while nobody is admitted');
    assert.deepEqual(
      hold.release(admitsEveryone, null, 0).map((r) => r.certificate.claims.epoch),
      [3, 4, 5, 6],
      'released oldest epoch first, so each is offered in order',
    );
    assert.equal(hold.size, 0);
  });

  it('releases a certificate naming an unknown member only after the grace, and marks it unchecked', () => {
    const hold = new AdmissionHold();
    const knowsNothing = () => 'unknown' as const;
    hold.hold(certificate({ epoch: 1, seq: 0 }), 0);
    hold.hold(certificate({ epoch: 1, seq: 1 }), 600); // a renewal keeps the time it was first held
    assert.deepEqual(hold.release(knowsNothing, null, UNKNOWN_NAME_GRACE_MS - 1), []);
    const released = hold.release(knowsNothing, null, UNKNOWN_NAME_GRACE_MS);
    assert.deepEqual(
      released.map((r) => [r.certificate.claims.seq, r.unchecked]),
      [[1, true]],
    );
  });

  it('drops, unasked, what is no newer than the certificate the peer already holds', () => {
    const hold = new AdmissionHold();
    hold.hold(certificate({ epoch: 2, seq: 4 }), 0);
    hold.hold(certificate({ epoch: 3, seq: 0 }), 0);
    assert.deepEqual(hold.release(admitsNobody, certificate({ epoch: 3, seq: 0 }), 0), []);
    assert.equal(hold.size, 0);
  });
});
