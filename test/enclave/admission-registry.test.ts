import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { AdmissionRegistry } from '../../src/enclave/admission-registry.ts';
import { retireEarlierKey } from '../../src/enclave/admission-service.ts';
import { type AdmissionKeyHistory, SealedAdmissionStore } from '../../src/enclave/admission-store.ts';

const rules = { ttlMs: 60_000, identitiesPerAddress: 1 };
const T0 = 1_700_000_000_000;

describe('admission rules', () => {
  it('admits a new name at a free address with a growing serial', () => {
    const registry = new AdmissionRegistry(rules);
    const a = registry.admit({ name: 'a', key: 'Ka', address: '10.0.0.1' }, T0);
    const b = registry.admit({ name: 'b', key: 'Kb', address: '10.0.0.2' }, T0);
    assert.equal(a.kind, 'granted');
    assert.equal(b.kind, 'granted');
    if (a.kind !== 'granted' || b.kind !== 'granted') return;
    assert.ok(b.binding.serial > a.binding.serial);
    assert.equal(a.binding.exp, T0 + rules.ttlMs);
  });

  it('refuses a second name from an address that holds a live identity (Sybil)', () => {
    const registry = new AdmissionRegistry(rules);
    registry.admit({ name: 'a', key: 'Ka', address: '10.0.0.1' }, T0);
    const second = registry.admit({ name: 'a-twin', key: 'Kx', address: '10.0.0.1' }, T0 + 1);
    assert.deepEqual(
      { kind: second.kind, code: second.kind === 'refused' && second.code },
      { kind: 'refused', code: 'E_ADDRESS_BOUND' },
    );
    assert.equal(registry.get('a-twin'), undefined);
  });

  it("refuses another member's name from another address while that admission stands", () => {
    const registry = new AdmissionRegistry(rules);
    registry.admit({ name: 'victim', key: 'Kv', address: '10.0.0.1' }, T0);
    const theft = registry.admit({ name: 'victim', key: 'Km', address: '10.0.0.9' }, T0 + 10);
    assert.equal(theft.kind, 'refused');
    if (theft.kind === 'refused') {
      assert.equal(theft.code, 'E_NAME_HELD');
      assert.equal(theft.retryAt, T0 + rules.ttlMs);
    }
    assert.equal(registry.get('victim')?.key, 'Kv');
  });

  it('lets the same name at the same address take a new key: a restarted container', () => {
    const registry = new AdmissionRegistry(rules);
    const before = registry.admit({ name: 'a', key: 'K1', address: '10.0.0.1' }, T0);
    const after = registry.admit({ name: 'a', key: 'K2', address: '10.0.0.1' }, T0 + 5);
    assert.equal(after.kind, 'granted');
    if (before.kind === 'granted' && after.kind === 'granted') {
      assert.ok(after.binding.serial > before.binding.serial);
      assert.equal(after.replaced?.key, 'K1');
    }
  });

  it('lets the same key renew, and move to a free address (a re-addressed container)', () => {
    const registry = new AdmissionRegistry(rules);
    registry.admit({ name: 'a', key: 'K1', address: '10.0.0.1' }, T0);
    assert.equal(registry.admit({ name: 'a', key: 'K1', address: '10.0.0.1' }, T0 + 30_000).kind, 'granted');
    assert.equal(registry.admit({ name: 'a', key: 'K1', address: '10.0.0.7' }, T0 + 31_000).kind, 'granted');
    assert.equal(registry.get('a')?.address, '10.0.0.7');
    // The old address is free again.
    assert.equal(registry.admit({ name: 'b', key: 'Kb', address: '10.0.0.1' }, T0 + 31_001).kind, 'granted');
  });

  it('frees a name and an address once their admission expires', () => {
    const registry = new AdmissionRegistry(rules);
    registry.admit({ name: 'a', key: 'K1', address: '10.0.0.1' }, T0);
    const late = T0 + rules.ttlMs;
    assert.equal(registry.admit({ name: 'a', key: 'K2', address: '10.0.0.2' }, late).kind, 'granted');
    assert.equal(registry.admit({ name: 'c', key: 'Kc', address: '10.0.0.1' }, late).kind, 'granted');
  });

  it('allows more identities per address only when told (local mode: all peers on 127.0.0.1)', () => {
    const registry = new AdmissionRegistry({ ...rules, identitiesPerAddress: 3 });
    for (const name of ['a', 'b', 'c']) {
      assert.equal(registry.admit({ name, key: `K${name}`, address: '127.0.0.1' }, T0).kind, 'granted');
    }
    assert.equal(registry.admit({ name: 'd', key: 'Kd', address: '127.0.0.1' }, T0).kind, 'refused');
  });

  it('keeps serials growing across a restart from its snapshot, even with the clock behind', () => {
    const registry = new AdmissionRegistry(rules);
    const first = registry.admit({ name: 'a', key: 'K1', address: '10.0.0.1' }, T0);
    const restarted = new AdmissionRegistry(rules, registry.snapshot());
    const next = restarted.admit({ name: 'a', key: 'K2', address: '10.0.0.1' }, T0 - 10_000);
    assert.ok(
      first.kind === 'granted' && next.kind === 'granted' && next.binding.serial > first.binding.serial,
    );
    const theft = restarted.admit({ name: 'a', key: 'K3', address: '10.0.0.2' }, T0);
    assert.equal(theft.kind, 'refused');
  });
});

describe('admission key history across enclave restarts (retireEarlierKey)', () => {
  const key = (n: number) => String(n).padStart(43, 'k');
  it('retires the previous run key for one admission lifetime, drops ended ones, keeps the newest 8', () => {
    assert.deepEqual(retireEarlierKey(undefined, key(1), T0, 600), {
      current: key(1),
      signed: false,
      retired: [],
    });
    const second = retireEarlierKey({ current: key(1), signed: true, retired: [] }, key(2), T0, 600);
    assert.deepEqual(second, { current: key(2), signed: false, retired: [{ key: key(1), until: T0 + 600 }] });
    // The same key again (a reload of the same run) retires nothing.
    assert.deepEqual(retireEarlierKey(second, key(2), T0 + 1, 600), { ...second });
    // Past its end, a retired key is no longer vouched for.
    assert.deepEqual(retireEarlierKey({ ...second, signed: true }, key(3), T0 + 600, 600).retired, [
      { key: key(2), until: T0 + 1200 },
    ]);
    let history: AdmissionKeyHistory = second;
    for (let run = 3; run <= 12; run++)
      history = retireEarlierKey({ ...history, signed: true }, key(run), T0 + run, 600);
    assert.equal(history.retired.length, 8);
    assert.deepEqual(history.retired[0], { key: key(11), until: T0 + 12 + 600 });
  });

  it('retires only keys that signed something: a crash loop does not push out the key that did', () => {
    let history = retireEarlierKey({ current: key(1), signed: true, retired: [] }, key(2), T0, 600);
    for (let run = 3; run <= 20; run++) history = retireEarlierKey(history, key(run), T0 + run, 600);
    assert.deepEqual(history.retired, [{ key: key(1), until: T0 + 600 }]);
  });
});

describe('the sealed admissions file (SealedAdmissionStore)', () => {
  const key = (n: number) => String(n).padStart(43, 'k');
  it('reads a key history written before `signed` was kept as signed, so its key is still vouched for after the next restart', () => {
    const dir = mkdtempSync(join(tmpdir(), 'admissions-'));
    try {
      const seal = randomBytes(32);
      const store = new SealedAdmissionStore(dir, seal);
      // As e138aca wrote it: no `signed`.
      store.save({
        serial: 3,
        bindings: [],
        keys: { current: key(1), retired: [] } as unknown as AdmissionKeyHistory,
      });
      const keys = store.load()?.keys;
      assert.deepEqual(keys, { current: key(1), signed: true, retired: [] });
      assert.deepEqual(retireEarlierKey(keys, key(2), T0, 600).retired, [{ key: key(1), until: T0 + 600 }]);
      store.save({ serial: 3, bindings: [], keys: { current: key(2), signed: false, retired: [] } });
      assert.equal(store.load()?.keys?.signed, false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
