// The fencing token verifier, as a resource server uses it: pinned root,
// pinned checksum and cluster in; a verified (epoch, seq, leader, lease end)
// out, or a coded refusal that says why.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { compareTokenOrder, encodeFencingToken, splitFencingToken } from '../../src/token/fencing-token.ts';
import { TokenRefusedError } from '../../src/token/token-error.ts';
import { makePki, removeDir } from '../enclave/fixture.ts';
import { startTokenFixture, type TokenFixture } from './token-fixture.ts';

function refusedWith(code: string, pattern?: RegExp) {
  return (error: unknown) => {
    assert.ok(error instanceof TokenRefusedError, `expected a TokenRefusedError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    if (pattern) assert.match(error.message, pattern);
    return true;
  };
}

/** Flip one character in the middle of a base64url segment, keeping it canonical. */
function tamper(segment: string): string {
  const i = Math.floor(segment.length / 2);
  return `${segment.slice(0, i)}${segment[i] === 'A' ? 'B' : 'A'}${segment.slice(i + 1)}`;
}

describe('fencing token verification', () => {
  let f: TokenFixture;
  before(async () => {
    f = await startTokenFixture();
  });
  after(() => f.close());

  it('accepts a fresh token and reports its cluster, epoch, seq, leader and lease end', () => {
    const verified = f.verifier().verify(f.token);
    assert.equal(verified.clusterId, 'test-cluster');
    assert.equal(verified.epoch, f.lease.claims.epoch);
    assert.equal(verified.seq, f.lease.claims.seq);
    assert.deepEqual(verified.leader, f.lease.claims.leader);
    assert.equal(verified.leaseEnd, f.lease.claims.lease_end);
    assert.equal(verified.kid, f.lease.claims.kid);
  });

  it('refuses a token whose lease has ended', () => {
    const verifier = f.verifier({ now: () => f.lease.claims.lease_end });
    assert.throws(() => verifier.verify(f.token), refusedWith('E_TOKEN_EXPIRED', /ended at/));
  });

  it('refuses a token older than the newest (epoch, seq) the caller has seen', () => {
    const { epoch, seq } = f.lease.claims;
    const verifier = f.verifier();
    assert.throws(
      () => verifier.verify(f.token, { minimum: { epoch: epoch + 1, seq: 0 } }),
      refusedWith('E_TOKEN_STALE', new RegExp(`epoch ${epoch} seq ${seq} is older than epoch ${epoch + 1}`)),
    );
    assert.throws(
      () => verifier.verify(f.token, { minimum: { epoch, seq: seq + 1 } }),
      refusedWith('E_TOKEN_STALE'),
    );
    assert.equal(verifier.verify(f.token, { minimum: { epoch, seq } }).epoch, epoch, 'equal is not older');
    assert.equal(verifier.verify(f.token, { minimum: { epoch: epoch - 1, seq: 99 } }).epoch, epoch);
  });

  it('refuses a token of another cluster', () => {
    assert.throws(
      () => f.verifier({ clusterId: 'other-cluster' }).verify(f.token),
      refusedWith('E_TOKEN_CLUSTER', /cluster test-cluster, not other-cluster/),
    );
  });

  it('refuses a token whose attestation does not chain to the pinned root', () => {
    const other = makePki();
    try {
      assert.throws(
        () => f.verifier({ root: other.root }).verify(f.token),
        refusedWith('E_TOKEN_UNTRUSTED', /pinned root/),
      );
    } finally {
      removeDir(other.dir);
    }
  });

  it('refuses a token whose attestation vouches for another function checksum', () => {
    assert.throws(
      () => f.verifier({ pinnedChecksum: 'ab'.repeat(32) }).verify(f.token),
      refusedWith('E_TOKEN_CHECKSUM', new RegExp(f.enclave.service.checksum)),
    );
  });

  it('refuses a certificate whose signature was tampered with', () => {
    const [h, p, s] = f.lease.compact.split('.') as [string, string, string];
    const token = encodeFencingToken({ certificate: `${h}.${p}.${tamper(s)}`, attestation: f.attestation });
    assert.throws(() => f.verifier().verify(token), refusedWith('E_TOKEN_INVALID', /signature/));
  });

  it('refuses a certificate whose claims were changed after signing', () => {
    const [h, p, s] = f.lease.compact.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
    const raised = Buffer.from(JSON.stringify({ ...claims, epoch: claims.epoch + 100 })).toString(
      'base64url',
    );
    const token = encodeFencingToken({ certificate: `${h}.${raised}.${s}`, attestation: f.attestation });
    assert.throws(() => f.verifier().verify(token), refusedWith('E_TOKEN_INVALID', /signature/));
  });

  it('refuses an attestation whose signature was tampered with', () => {
    const [h, p, s] = f.attestation.split('.') as [string, string, string];
    const token = encodeFencingToken({ certificate: f.lease.compact, attestation: `${h}.${p}.${tamper(s)}` });
    assert.throws(() => f.verifier().verify(token), refusedWith('E_TOKEN_UNTRUSTED', /signature/));
  });

  it('refuses a certificate signed by a key the attestation does not vouch for', async () => {
    const second = await startTokenFixture();
    try {
      // Same root and checksum, but the second enclave's key signed the certificate.
      const verifier = f.verifier({ root: f.pki.root });
      const mixed = encodeFencingToken({ certificate: second.lease.compact, attestation: f.attestation });
      assert.throws(() => verifier.verify(mixed), refusedWith('E_TOKEN_INVALID', /another key/));
    } finally {
      await second.close();
    }
  });

  it('refuses text that is not a certificate and an attestation joined by ~', () => {
    const verifier = f.verifier();
    for (const bad of ['', 'abc', `${f.lease.compact}~`, `${f.token}~${f.attestation}`]) {
      assert.throws(() => verifier.verify(bad), refusedWith('E_TOKEN_MALFORMED'), bad.slice(0, 20));
    }
    assert.throws(
      () => verifier.verify(`x.y.z~${f.attestation}`),
      refusedWith('E_TOKEN_INVALID', /not canonical base64url/),
    );
  });

  it('verifies an attestation document once and then serves it from the cache', () => {
    const verifier = f.verifier();
    verifier.verify(f.token);
    verifier.verify(f.token);
    verifier.verify(f.token);
    assert.deepEqual({ misses: verifier.misses, hits: verifier.hits }, { misses: 1, hits: 2 });
  });

  it('does not cache a refused attestation', () => {
    const verifier = f.verifier({ pinnedChecksum: 'ab'.repeat(32) });
    assert.throws(() => verifier.verify(f.token));
    assert.throws(() => verifier.verify(f.token));
    assert.equal(verifier.misses, 2);
  });
});

describe('fencing token format', () => {
  it('joins certificate and attestation with ~ and splits them back', () => {
    const parts = { certificate: 'a.b.c', attestation: 'd.e.f' };
    assert.equal(encodeFencingToken(parts), 'a.b.c~d.e.f');
    assert.deepEqual(splitFencingToken('a.b.c~d.e.f\n'), parts);
  });

  it('orders tokens by epoch, then seq', () => {
    assert.ok(compareTokenOrder({ epoch: 2, seq: 0 }, { epoch: 1, seq: 9 }) > 0);
    assert.ok(compareTokenOrder({ epoch: 1, seq: 3 }, { epoch: 1, seq: 4 }) < 0);
    assert.equal(compareTokenOrder({ epoch: 1, seq: 3 }, { epoch: 1, seq: 3 }), 0);
  });
});
