import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { COUNTER_FILE, STATE_FILE } from '../../src/enclave/state-store.ts';
import { ManualClock } from '../../src/time/clock.ts';
import {
  electAs,
  makeClient,
  makePeers,
  makePki,
  removeDir,
  standAll,
  startTestEnclave,
  type TestPki,
  tempDir,
} from './fixture.ts';

const LEASE_MS = 1000;
const peers = makePeers(4);

describe('sealed epoch state', () => {
  let pki: TestPki;
  before(() => {
    pki = makePki();
  });
  after(() => removeDir(pki.dir));

  async function runEpochs(stateDir: string, clock: ManualClock, count: number): Promise<number> {
    const enclave = await startTestEnclave({ pki, stateDir, clock, leaseMs: LEASE_MS });
    try {
      const client = makeClient(enclave, pki, enclave.service.checksum, { clock });
      let epoch = 0;
      for (let i = 0; i < count; i++) {
        epoch = (await standAll(client, peers, {}, { enclave, clock })).claims.epoch;
        clock.advance(LEASE_MS);
      }
      return epoch;
    } finally {
      await enclave.close();
    }
  }

  it('keeps epochs monotonic across restarts', async () => {
    const stateDir = tempDir('state');
    const clock = new ManualClock(0, Date.now());
    try {
      assert.equal(await runEpochs(stateDir, clock, 3), 3);
      assert.equal(await runEpochs(stateDir, clock, 2), 5);
      assert.equal(await runEpochs(stateDir, clock, 1), 6);
    } finally {
      removeDir(stateDir);
    }
  });

  it('honours a live lease across a restart: no other leader until it ends, then the next epoch', async () => {
    const stateDir = tempDir('state');
    const clock = new ManualClock(0, Date.now());
    try {
      const first = await startTestEnclave({ pki, stateDir, clock, leaseMs: LEASE_MS });
      const client = makeClient(first, pki, first.service.checksum, { clock });
      const before = await standAll(client, peers, {}, { enclave: first, clock });
      await first.close();
      const second = await startTestEnclave({ pki, stateDir, clock, leaseMs: LEASE_MS, port: first.port });
      try {
        assert.notEqual(second.service.kid, first.service.kid);
        await assert.rejects(electAs(client, peers[0]!), {
          status: 503,
          code: 'E_LEASE_INHERITED',
        });
        const leader = peers.find((p) => p.name === before.claims.leader.name)!;
        await assert.rejects(client.renew({ certificate: before, signer: leader.privateKey }), {
          code: 'E_LEASE_INHERITED',
        });
        const held = electAs(client, peers[0]!, { waitMs: LEASE_MS });
        while (clock.sleeping === 0) await new Promise((r) => setTimeout(r, 5));
        clock.advance(LEASE_MS);
        const after = await held;
        assert.equal(after.claims.epoch, before.claims.epoch + 1);
        assert.equal(after.claims.kid, second.service.kid);
      } finally {
        await second.close();
      }
    } finally {
      removeDir(stateDir);
    }
  });

  it('refuses to start on a tampered state file, with a coded message', async () => {
    const stateDir = tempDir('state');
    try {
      await runEpochs(stateDir, new ManualClock(0, Date.now()), 2);
      const path = join(stateDir, STATE_FILE);
      const doc = JSON.parse(readFileSync(path, 'utf8'));
      doc.body.epoch = 1;
      writeFileSync(path, JSON.stringify(doc));
      await assert.rejects(startTestEnclave({ pki, stateDir }), {
        code: 'E_STATE_TAMPERED',
        message: /fails its seal/,
      });
      writeFileSync(path, '{not json');
      await assert.rejects(startTestEnclave({ pki, stateDir }), { code: 'E_STATE_TAMPERED' });
    } finally {
      removeDir(stateDir);
    }
  });

  it('refuses a state file rolled back to an older sealed copy', async () => {
    const stateDir = tempDir('state');
    const backup = tempDir('backup');
    const clock = new ManualClock(0, Date.now());
    try {
      await runEpochs(stateDir, clock, 1);
      copyFileSync(join(stateDir, STATE_FILE), join(backup, STATE_FILE));
      await runEpochs(stateDir, clock, 2);
      copyFileSync(join(backup, STATE_FILE), join(stateDir, STATE_FILE));
      await assert.rejects(startTestEnclave({ pki, stateDir, clock }), {
        code: 'E_STATE_ROLLBACK',
        message: /rolled back/,
      });
    } finally {
      removeDir(stateDir);
      removeDir(backup);
    }
  });

  it('refuses state sealed under another attestation key', async () => {
    const stateDir = tempDir('state');
    const otherPki = makePki();
    try {
      await runEpochs(stateDir, new ManualClock(0, Date.now()), 1);
      await assert.rejects(startTestEnclave({ pki: otherPki, stateDir }), { code: 'E_STATE_TAMPERED' });
      // The counter alone without a state file is also refused.
      const lone = tempDir('state');
      copyFileSync(join(stateDir, COUNTER_FILE), join(lone, COUNTER_FILE));
      await assert.rejects(startTestEnclave({ pki, stateDir: lone }), { code: 'E_STATE_TAMPERED' });
      removeDir(lone);
    } finally {
      removeDir(stateDir);
      removeDir(otherPki.dir);
    }
  });
});
