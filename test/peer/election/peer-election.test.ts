// The election shell against a real enclave on loopback HTTP, with a fake
// membership node: what it gossips, whom it re-offers to, how it resigns, and
// how it treats gossiped certificates.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../../../src/log/logger.ts';
import { decodeCertificate, encodeFullCertificate } from '../../../src/peer/election/certificate-wire.ts';
import { PeerElection } from '../../../src/peer/election/peer-election.ts';
import { DEFAULT_ELECTION_TIMING } from '../../../src/peer/election/timing.ts';
import {
  CLUSTER,
  electAs,
  makeClient,
  makePeers,
  makePki,
  removeDir,
  startTestEnclave,
  type TestEnclave,
  type TestPeer,
  type TestPki,
} from '../../enclave/fixture.ts';
import { fakeNode } from './fake-node.ts';

function shell(
  enclave: TestEnclave,
  pki: TestPki,
  self: TestPeer,
  others: TestPeer[] = [],
  admission?: (name: string, key: string) => 'admitted' | 'other-key' | 'unknown',
) {
  const fake = fakeNode(self, others);
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _e, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  const election = new PeerElection({
    node: fake.node,
    signer: self.privateKey,
    enclaveUrl: enclave.url,
    root: pki.root,
    pinnedChecksum: enclave.service.checksum,
    clusterId: CLUSTER,
    timing: DEFAULT_ELECTION_TIMING,
    joined: () => true,
    logger: createLogger({ destination: sink, level: 'info', base: {} }),
    minKeyBits: 1024,
    seed: 1,
    ...(admission ? { admission } : {}),
  });
  return { election, lines, ...fake };
}

async function until(predicate: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('peer election shell', () => {
  let pki: TestPki;
  let vrf: TestEnclave;
  let highestId: TestEnclave;
  before(async () => {
    pki = makePki();
    vrf = await startTestEnclave({ pki, policy: 'vrf' });
    highestId = await startTestEnclave({ pki, policy: 'highest-id' });
  });
  after(async () => {
    for (const enclave of [vrf, highestId]) {
      await enclave.close();
      removeDir(enclave.stateDir);
    }
    removeDir(pki.dir);
  });

  it('asks, renews, leads, gossips renewals as deltas on probes, and hands over on shutdown', async () => {
    const [other, self] = makePeers(2); // highest-id: self (peer-001) is chosen first
    const { election, lines, broadcasts } = shell(highestId, pki, self!, [other!]);
    election.start();
    try {
      await until(() => election.election.status().isLeader, 'leading');
      await until(() => broadcasts.some((b) => b.key === 'lease'), 'a renewal gossiped');
      const events = lines.map((l) => l.event);
      assert.deepEqual(
        events.filter((e) => e === 'election.requested' || e === 'leader.acquired'),
        ['election.requested', 'leader.acquired'],
      );
      assert.equal(broadcasts[0]?.key, 'epoch', 'the new epoch is gossiped whole, at once');
      assert.equal(broadcasts[0]?.piggybackOnly, false);
      const renewal = broadcasts.find((b) => b.key === 'lease')!;
      assert.equal(renewal.piggybackOnly, true, 'renewals ride on probe traffic only');
      // The other member stands (its own signed candidacy), so the enclave has a successor.
      await electAs(makeClient(highestId, pki, highestId.service.checksum), other!);
    } finally {
      await election.shutdown(2000);
    }
    const released = lines.find((l) => l.event === 'leader.released');
    assert.equal(released?.reason, 'resigned');
    const handOver = decodeCertificate(broadcasts.at(-1)!.payload, () => undefined);
    assert.equal(handOver.kind, 'full', 'the hand-over certificate is gossiped whole');
    const successor = election.election.status().certificate!;
    assert.equal(successor.claims.epoch, 2);
    assert.equal(successor.claims.leader.name, other!.name);
  });

  it('the acting leader sends the whole certificate to each rejoining member, and gossips it at most once a second', async () => {
    const [self] = makePeers(1);
    const { election, broadcasts, direct, emit } = shell(vrf, pki, self!);
    election.start();
    try {
      await until(() => election.election.status().isLeader, 'a lone peer leads');
      const before = broadcasts.length;
      emit({ event: 'member.alive', member: 'peer-2', incarnation: 7 });
      emit({ event: 'member.joined', member: 'peer-3', address: '127.0.0.1:2', incarnation: 1 });
      const offered = broadcasts.slice(before).filter((b) => b.key === 'epoch');
      assert.equal(offered.length, 1, 'one gossiped re-offer for two rejoins within a second');
      assert.deepEqual(
        direct.filter((d) => d.key === 'epoch').map((d) => d.to),
        ['peer-2', 'peer-3'],
        'each rejoining member gets it first-hand',
      );
      assert.deepEqual(direct[0]!.payload, offered[0]!.payload);
      const decoded = decodeCertificate(offered[0]!.payload, () => undefined);
      assert.equal(decoded.kind, 'full');
      assert.equal(
        decoded.kind === 'full' && decoded.compact,
        election.election.status().certificate?.compact,
      );
    } finally {
      await election.shutdown(500);
    }
  });

  it('verifies each gossiped certificate once, adopts a valid one and counts a forgery once', async () => {
    const [self, leader] = makePeers(2);
    const granted = await electAs(makeClient(vrf, pki, vrf.service.checksum), leader!);
    const forged = `${granted.compact.slice(0, -4)}AAAA`;
    const { election, lines, emit } = shell(vrf, pki, self!, [leader!]);
    const gossip = (compact: string) =>
      emit({
        event: 'broadcast.received',
        topic: 'leader',
        key: 'epoch',
        payload: encodeFullCertificate(compact),
        from: leader!.name,
      });
    gossip(forged);
    gossip(forged);
    gossip(granted.compact);
    await until(() => election.election.status().certificate !== null, 'adopted');
    assert.equal(election.election.status().certificate?.hash, granted.hash);
    assert.deepEqual(election.droppedCertificates(), { rejected: 1, notAdmitted: 0, adoptedUnchecked: 0 });
    assert.equal(lines.filter((l) => l.event === 'certificate.rejected').length, 1);
    assert.ok(lines.some((l) => l.event === 'certificate.rejected' && l.reason === 'E_CERT_INVALID'));
    assert.ok(lines.some((l) => l.event === 'certificate.accepted' && l.epoch === granted.claims.epoch));
    assert.equal(election.status().enclave.trusted, true, 'attested while verifying');
  });

  it('adopts only a certificate whose leader is admitted with the key it names (issue 14)', async () => {
    const [self, leader, impostor] = makePeers(3);
    const client = makeClient(vrf, pki, vrf.service.checksum);
    // The book admits `leader` with its key, and the impostor's name with another key: its certificate is refused.
    const admission = (name: string, key: string) =>
      name === leader!.name && key === leader!.key
        ? 'admitted'
        : name === impostor!.name
          ? 'other-key'
          : 'unknown';
    const { election, lines, emit } = shell(vrf, pki, self!, [leader!], admission);
    const foreign = await electAs(client, impostor!);
    emit({
      event: 'broadcast.received',
      topic: 'leader',
      key: 'epoch',
      payload: encodeFullCertificate(foreign.compact),
      from: leader!.name,
    });
    await until(() => lines.some((l) => l.event === 'certificate.rejected'), 'refused');
    assert.ok(lines.some((l) => l.event === 'certificate.rejected' && l.reason === 'E_CERT_NOT_ADMITTED'));
    assert.equal(election.election.status().certificate, null, 'nothing adopted');
  });
});
