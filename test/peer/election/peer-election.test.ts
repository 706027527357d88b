import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../../../src/log/logger.ts';
import { decodeCertificate } from '../../../src/peer/election/certificate-wire.ts';
import { PeerElection } from '../../../src/peer/election/peer-election.ts';
import { DEFAULT_ELECTION_TIMING } from '../../../src/peer/election/timing.ts';
import type { MembershipEvent } from '../../../src/peer/membership/membership-events.ts';
import type { MembershipNode } from '../../../src/peer/membership-node.ts';
import {
  CLUSTER,
  makePki,
  removeDir,
  startTestEnclave,
  type TestEnclave,
  type TestPki,
} from '../../enclave/fixture.ts';

/** Just enough of a MembershipNode: one alive member (itself), recorded broadcasts, injectable events. */
function fakeNode(name: string, publicKey: Uint8Array) {
  const listeners: ((e: MembershipEvent) => void)[] = [];
  const broadcasts: { topic: string; key: string; payload: Uint8Array }[] = [];
  const direct: { to: string; topic: string; key: string; payload: Uint8Array }[] = [];
  const node = {
    name,
    self: { name, publicKey, state: 'alive', address: '127.0.0.1:1', incarnation: 1 },
    members: () => [node.self],
    on: (l: (e: MembershipEvent) => void) => listeners.push(l),
    broadcast: (topic: string, key: string, payload: Uint8Array) => broadcasts.push({ topic, key, payload }),
    sendTo: (to: string, topic: string, key: string, payload: Uint8Array) =>
      direct.push({ to, topic, key, payload }),
    probeNext: () => {},
  };
  const emit = (e: MembershipEvent) => {
    for (const l of listeners) l(e);
  };
  return { node: node as unknown as MembershipNode, broadcasts, direct, emit };
}

describe('peer election layer', () => {
  let pki: TestPki;
  let enclave: TestEnclave;
  before(async () => {
    pki = makePki();
    enclave = await startTestEnclave({ pki, policy: 'vrf' });
  });
  after(async () => {
    await enclave.close();
    removeDir(pki.dir);
    removeDir(enclave.stateDir);
  });

  it('the acting leader sends the whole certificate to each rejoining member, and gossips it at most once a second', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const raw = new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }).subarray(-32));
    const { node, broadcasts, direct, emit } = fakeNode('peer-1', raw);
    const sink = new Writable({ write: (_c, _e, done) => done() });
    const election = new PeerElection({
      node,
      signer: privateKey,
      enclaveUrl: enclave.url,
      root: pki.root,
      pinnedChecksum: enclave.service.checksum,
      clusterId: CLUSTER,
      timing: DEFAULT_ELECTION_TIMING,
      joined: () => true,
      logger: createLogger({ destination: sink, level: 'info' }),
      minKeyBits: 1024,
    });
    election.start();
    try {
      const deadline = Date.now() + 10_000;
      while (!election.election.status().isLeader && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 20));
      assert.ok(election.election.status().isLeader, 'a lone peer becomes leader');
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
});
