import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { verifyAdmission } from '../../src/crypto/admission-certificate.ts';
import { verifyAttestation } from '../../src/crypto/attestation.ts';
import { signAdmissionRequest } from '../../src/enclave/admission-proof.ts';
import { ADMISSION_DEFAULTS } from '../../src/enclave/admission-service.ts';
import { createJoinSecret, loadJoinSecret } from '../../src/enclave/join-secret.ts';
import { memberKeyOf } from '../../src/enclave/lease-signature.ts';
import { ManualClock } from '../../src/time/clock.ts';
import {
  CLUSTER,
  electBody,
  makeClient,
  makePki,
  postJson,
  removeDir,
  startTestEnclave,
  TEST_KEY_BITS,
  type TestEnclave,
  type TestPki,
  tempDir,
} from './fixture.ts';

interface Reply {
  status: number;
  body: { admission?: string; serial?: number; error?: { code: string; retry_at?: number } };
}

/** POST /v1/admit from a chosen loopback source address (Linux routes all of 127/8 to lo). */
function admitFrom(enclave: TestEnclave, source: string, body: unknown): Promise<Reply> {
  const url = new URL('/v1/admit', enclave.url);
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'POST', localAddress: source, headers: { 'content-type': 'application/json' } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString()) }),
        );
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

function identity(name: string) {
  const { privateKey } = generateKeyPairSync('ed25519');
  return { name, privateKey, key: memberKeyOf(privateKey) };
}

describe('admission at the enclave (POST /v1/admit)', () => {
  let pki: TestPki;
  let joinDir: string;
  let secret: Buffer;
  let enclave: TestEnclave;
  // Wall time now: the PKI made for the test is valid from now on.
  const clock = new ManualClock(0, Date.now());

  const proof = (who: ReturnType<typeof identity>, overrides: { secret?: Buffer; ts?: number } = {}) =>
    signAdmissionRequest(
      { cluster_id: CLUSTER, name: who.name, key: who.key, ts: overrides.ts ?? clock.wallNow() },
      overrides.secret ?? secret,
      who.privateKey,
    );

  before(async () => {
    pki = makePki();
    joinDir = tempDir('join');
    secret = loadJoinSecret(createJoinSecret(joinDir));
    enclave = await startTestEnclave({ pki, clock, joinSecretPath: joinDir, admissionTtlMs: 60_000 });
  });
  after(async () => {
    await enclave.close();
    removeDir(enclave.stateDir);
    removeDir(pki.dir);
    removeDir(joinDir);
  });

  it('admits a key that proves the join secret, with a certificate naming its name, key and source address', async () => {
    const peer = identity('alpha');
    const reply = await admitFrom(enclave, '127.0.0.11', proof(peer));
    assert.equal(reply.status, 200);
    // The admission key is the one the attestation document vouches for.
    const nonce = 'ab'.repeat(16);
    const attested = verifyAttestation(enclave.service.attest(nonce), {
      root: pki.root,
      nonce,
      pinnedChecksum: enclave.service.checksum,
      now: new Date(clock.wallNow()),
      minKeyBits: TEST_KEY_BITS,
    });
    const token = reply.body.admission!;
    const { claims } = verifyAdmission(token, {
      clusterId: CLUSTER,
      keys: new Map([[attested.admissionKid, attested.admissionKey]]),
      now: clock.wallNow(),
    });
    assert.deepEqual(
      { name: claims.name, key: claims.key, address: claims.address },
      { name: 'alpha', key: peer.key, address: '127.0.0.11' },
    );
    // A verifier we did not write (openssl) checks its Ed25519 signature over the
    // documented bytes: the tag, the cluster id (length-prefixed), then every byte
    // before the signature.
    const bytes = Buffer.from(token, 'base64url');
    const signed = Buffer.concat([
      Buffer.from('enclave-elect/admission/v2\0'),
      Buffer.from([CLUSTER.length]),
      Buffer.from(CLUSTER),
      bytes.subarray(0, -64),
    ]);
    const dir = tempDir('admission-openssl');
    try {
      const spki = Buffer.concat([
        Buffer.from('302a300506032b6570032100', 'hex'),
        Buffer.from(attested.claims.user_data.admission_key, 'base64url'),
      ]);
      writeFileSync(join(dir, 'key.der'), spki);
      writeFileSync(join(dir, 'signed'), signed);
      writeFileSync(join(dir, 'sig'), bytes.subarray(-64));
      const verify = (file: string) =>
        spawnSync(
          'openssl',
          [
            'pkeyutl',
            '-verify',
            '-pubin',
            '-keyform',
            'DER',
            '-inkey',
            join(dir, 'key.der'),
            '-rawin',
            '-in',
            join(dir, file),
            '-sigfile',
            join(dir, 'sig'),
          ],
          { encoding: 'utf8' },
        );
      assert.equal(verify('signed').status, 0, verify('signed').stdout + verify('signed').stderr);
      writeFileSync(
        join(dir, 'other'),
        Buffer.concat([signed.subarray(0, -1), Buffer.from([signed.at(-1)! ^ 1])]),
      );
      assert.notEqual(verify('other').status, 0, 'one byte changed');
    } finally {
      removeDir(dir);
    }
  });

  it('refuses an outsider: a request under another secret, with 403 E_NOT_ADMITTED', async () => {
    const outsider = identity('outsider');
    const reply = await admitFrom(enclave, '127.0.0.12', proof(outsider, { secret: randomBytes(32) }));
    assert.deepEqual([reply.status, reply.body.error?.code], [403, 'E_NOT_ADMITTED']);
  });

  it('refuses a request whose signature is not by the key it asks to admit', async () => {
    const member = identity('beta');
    const body = { ...proof(member), key: identity('beta').key };
    const reply = await admitFrom(enclave, '127.0.0.13', body);
    // The HMAC covers the key too: a changed key fails there first, for the same outcome.
    assert.equal(reply.status, 403);
    const signedByOther = signAdmissionRequest(
      { cluster_id: CLUSTER, name: 'beta', key: member.key, ts: clock.wallNow() },
      secret,
      identity('x').privateKey,
    );
    const second = await admitFrom(enclave, '127.0.0.13', signedByOther);
    assert.deepEqual([second.status, second.body.error?.code], [403, 'E_BAD_SIGNATURE']);
  });

  it('refuses a replayed proof and a stale one', async () => {
    const member = identity('gamma');
    const body = proof(member);
    assert.equal((await admitFrom(enclave, '127.0.0.14', body)).status, 200);
    const replay = await admitFrom(enclave, '127.0.0.15', body);
    assert.deepEqual([replay.status, replay.body.error?.code], [403, 'E_REPLAYED']);
    const stale = await admitFrom(enclave, '127.0.0.14', proof(member, { ts: clock.wallNow() - 31_000 }));
    assert.deepEqual([stale.status, stale.body.error?.code], [403, 'E_STALE_REQUEST']);
  });

  it('Sybil: an admitted member asking for a second name from its address is refused', async () => {
    assert.equal((await admitFrom(enclave, '127.0.0.21', proof(identity('delta')))).status, 200);
    const twin = await admitFrom(enclave, '127.0.0.21', proof(identity('delta-2')));
    assert.deepEqual([twin.status, twin.body.error?.code], [409, 'E_ADDRESS_BOUND']);
  });

  it("Sybil: an admitted member asking for another member's name is refused, with when to retry", async () => {
    assert.equal((await admitFrom(enclave, '127.0.0.31', proof(identity('victim')))).status, 200);
    const thief = identity('victim');
    const theft = await admitFrom(enclave, '127.0.0.32', proof(thief));
    assert.deepEqual([theft.status, theft.body.error?.code], [409, 'E_NAME_HELD']);
    assert.equal(theft.body.error?.retry_at, clock.wallNow() + 60_000);
  });

  it('a restarted member (same name and address, new key) gets a newer serial that supersedes', async () => {
    const first = await admitFrom(enclave, '127.0.0.41', proof(identity('epsilon')));
    const again = await admitFrom(enclave, '127.0.0.41', proof(identity('epsilon')));
    assert.equal(again.status, 200);
    assert.ok(again.body.serial! > first.body.serial!);
  });

  it('the client admits through the attested enclave and checks the answer names its own key', async () => {
    const peer = identity('zeta');
    const client = makeClient(enclave, pki, enclave.service.checksum, { clock });
    const admitted = await client.admit({ name: 'zeta', signer: peer.privateKey, joinSecret: secret });
    assert.equal(admitted.claims.key, peer.key);
    assert.equal(admitted.claims.address, '127.0.0.1');
    const verified = await client.verifyAdmission(admitted.token);
    assert.equal(verified.claims.serial, admitted.claims.serial);
    const outsider = makeClient(enclave, pki, enclave.service.checksum, { clock });
    await assert.rejects(
      outsider.admit({ name: 'eta', signer: identity('eta').privateKey, joinSecret: randomBytes(32) }),
      { code: 'E_NOT_ADMITTED' },
    );
  });

  it('elects only admitted members: an outsider cannot stand, whatever it signs (issue 14)', async () => {
    const member = identity('kappa');
    assert.equal((await admitFrom(enclave, '127.0.0.71', proof(member))).status, 200);
    const ghost = identity('ghost');
    const url = `${enclave.url}/v1/elect`;
    const outsider = await postJson(url, electBody(ghost, { ts: clock.wallNow() }));
    assert.deepEqual([outsider.status, outsider.body.error?.code], [403, 'E_NOT_ADMITTED']);
    const before = enclave.service.candidaciesReceived;
    const standing = postJson(url, electBody(member, { ts: clock.wallNow() }));
    while (enclave.service.candidaciesReceived === before) await new Promise((r) => setTimeout(r, 2));
    clock.advance(enclave.service.candidacySettleMs);
    const granted = await standing;
    assert.equal(granted.status, 200);
    assert.equal(granted.body.leader, 'kappa');
    assert.deepEqual(granted.body.candidates, [{ name: 'kappa', key: member.key }]);
  });

  it('keeps who holds which name across an enclave restart', async () => {
    const stateDir = tempDir('state');
    const first = await startTestEnclave({ pki, clock, stateDir, joinSecretPath: joinDir });
    assert.equal((await admitFrom(first, '127.0.0.51', proof(identity('theta')))).status, 200);
    await first.close();
    const second = await startTestEnclave({ pki, clock, stateDir, joinSecretPath: joinDir });
    try {
      const theft = await admitFrom(second, '127.0.0.52', proof(identity('theta')));
      assert.deepEqual([theft.status, theft.body.error?.code], [409, 'E_NAME_HELD']);
    } finally {
      await second.close();
      removeDir(stateDir);
    }
  });

  it('a member admitted before an enclave restart stays verifiable by a peer that met only the restarted enclave', async () => {
    // Found by chaos (seed chaos-it-1): a peer killed just after an enclave restart came back, attested
    // the new enclave only, and could verify no admission its older fellows held, so it joined nobody.
    const stateDir = tempDir('state');
    const first = await startTestEnclave({ pki, clock, stateDir, joinSecretPath: joinDir });
    const older = identity('lambda');
    const token = (await admitFrom(first, '127.0.0.81', proof(older))).body.admission!;
    const oldKid = first.service.attestedAdmissionKey.kid;
    await first.close();
    const second = await startTestEnclave({ pki, clock, stateDir, joinSecretPath: joinDir });
    const third = await startTestEnclave({ pki, clock, stateDir, joinSecretPath: joinDir });
    try {
      // Each start signs with a fresh key: the old private key is gone, so nobody mints with it again.
      assert.notEqual(third.service.attestedAdmissionKey.kid, oldKid);
      const newcomer = makeClient(third, pki, third.service.checksum, { clock });
      await newcomer.attest();
      const verified = await newcomer.verifyAdmission(token);
      assert.equal(verified.claims.name, 'lambda');
      assert.equal(verified.kid, oldKid);
      // The old key is vouched for only while an admission it signed could still stand.
      clock.advance(ADMISSION_DEFAULTS.ttlMs + 1);
      const later = makeClient(third, pki, third.service.checksum, { clock });
      await later.attest();
      assert.equal(later.admissionKeys.has(oldKid), false);
      // A client that trusted it drops it at its next attestation: it trusts what the enclave vouches for now.
      await newcomer.attest();
      assert.equal(newcomer.admissionKeys.has(oldKid), false);
      assert.ok(newcomer.admissionKeys.has(third.service.attestedAdmissionKey.kid));
    } finally {
      await second.close();
      await third.close();
      removeDir(stateDir);
    }
  });

  it('answers 503 E_ADMISSION_DISABLED when started without a join secret', async () => {
    const plain = await startTestEnclave({ pki, clock });
    try {
      const reply = await admitFrom(plain, '127.0.0.61', proof(identity('iota')));
      assert.deepEqual([reply.status, reply.body.error?.code], [503, 'E_ADMISSION_DISABLED']);
    } finally {
      await plain.close();
      removeDir(plain.stateDir);
    }
  });
});
