import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { signRecord } from '../../../src/crypto/member-record-signature.ts';
import { AdmissionBook } from '../../../src/peer/admission/admission-book.ts';
import { newIdentity, SIM_CLUSTER, TestAdmissions } from '../support/test-admissions.ts';

const enclave = new TestAdmissions();
const forger = new TestAdmissions();

function book(now = 1_000) {
  let t = now;
  const b = new AdmissionBook({ clusterId: SIM_CLUSTER, keys: enclave.keys, now: () => t });
  return { book: b, at: (ms: number) => (t = ms) };
}

describe('admission book', () => {
  const alice = newIdentity();
  const mallory = newIdentity();
  const record = (who = alice, incarnation = 5) => {
    const r = { name: 'alice', incarnation, address: '10.0.0.1:7946', publicKey: who.publicKey };
    return { ...r, signature: signRecord(r, who.privateKey) };
  };

  it('keeps a verified admission and admits its key only', () => {
    const { book: b } = book();
    const result = b.offer(enclave.issue('alice', alice.publicKey));
    assert.equal(result.ok && result.changed, true);
    assert.equal(b.admits('alice', alice.publicKey), true);
    assert.equal(b.admits('alice', mallory.publicKey), false);
    assert.equal(b.admits('bob', alice.publicKey), false);
  });

  it("refuses a forger's admission (a key no attestation vouched for) as unknown-kid, and keeps nothing", () => {
    const { book: b } = book();
    assert.deepEqual(b.offer(forger.issue('alice', mallory.publicKey)), { ok: false, reason: 'unknown-kid' });
    assert.equal(b.size, 0);
    assert.deepEqual(b.offer('a.b.c'), { ok: false, reason: 'invalid' });
  });

  it('lets a higher serial supersede (a restart with a new key) and refuses an older one', () => {
    const { book: b } = book();
    const old = enclave.issue('alice', alice.publicKey);
    const renewed = enclave.issue('alice', mallory.publicKey);
    b.offer(renewed);
    assert.deepEqual(b.offer(old), { ok: false, reason: 'superseded' });
    assert.equal(b.admits('alice', mallory.publicKey), true);
    const again = b.offer(renewed);
    assert.equal(again.ok && again.changed, false);
  });

  it('stops admitting at expiry', () => {
    const { book: b, at } = book();
    b.offer(enclave.issue('alice', alice.publicKey, { now: 0, ttlMs: 10_000 }));
    assert.equal(b.admits('alice', alice.publicKey), true);
    at(10_000);
    assert.equal(b.admits('alice', alice.publicKey), false);
    assert.deepEqual(b.offer(enclave.issue('alice', alice.publicKey, { now: 0, ttlMs: 10_000 })), {
      ok: false,
      reason: 'expired',
    });
  });

  it('judges records: admitted key and good signature only, each checked once per incarnation', () => {
    const { book: b } = book();
    b.offer(enclave.issue('alice', alice.publicKey));
    assert.equal(b.check(record()).verdict, 'ok');
    assert.equal(b.check(record()).verdict, 'ok');
    assert.equal(b.records.checks, 1);
    assert.equal(b.check({ ...record(), signature: undefined }).verdict, 'unsigned');
    assert.equal(b.check(record(mallory)).verdict, 'wrong-key');
    assert.equal(b.check({ ...record(), name: 'bob' }).verdict, 'no-admission');
    assert.equal(b.check({ ...record(), incarnation: 6 }).verdict, 'bad-signature');
  });
});
