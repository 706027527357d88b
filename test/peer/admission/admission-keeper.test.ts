import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AdmissionClaims } from '../../../src/crypto/admission-certificate.ts';
import { AdmissionKeeper } from '../../../src/peer/admission/admission-keeper.ts';
import { ManualClock } from '../../../src/time/clock.ts';

const TTL = 600_000;

function claims(iat: number): AdmissionClaims {
  return {
    v: 2,
    cluster_id: 'c',
    name: 'a',
    key: 'k',
    address: '10.0.0.1',
    serial: iat,
    iat,
    exp: iat + TTL,
  };
}

function keeper(clock: ManualClock, outcomes: (() => Error | undefined)[]) {
  const calls: number[] = [];
  const errors: { code: string; wait: number }[] = [];
  const admitted: number[] = [];
  const k = new AdmissionKeeper({
    admit: async () => {
      calls.push(clock.now());
      const error = (outcomes.shift() ?? (() => undefined))();
      if (error) throw error;
      return { token: `t${calls.length}`, claims: claims(clock.now()) };
    },
    now: () => clock.now(),
    setTimer: (ms, fn) => clock.setTimer(ms, fn),
    random: () => 1,
    onAdmitted: (_t, c) => admitted.push(c.serial),
    onError: (error, wait) => errors.push({ code: (error as { code?: string }).code ?? '', wait }),
  });
  return { k, calls, errors, admitted };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('admission keeper', () => {
  it('admits at start and again at half of each lifetime', async () => {
    const clock = new ManualClock(1_000_000);
    const { k, calls } = keeper(clock, []);
    await k.start();
    clock.advance(TTL / 2 - 1);
    await settle();
    assert.equal(calls.length, 1);
    clock.advance(1);
    await settle();
    assert.deepEqual(calls, [1_000_000, 1_000_000 + TTL / 2]);
    k.stop();
  });

  it('retries a failure with growing backoff, and a held name at the retry_at the enclave named', async () => {
    const clock = new ManualClock(1_000_000);
    const unreachable = () => Object.assign(new Error('down'), { code: 'E_ENCLAVE_UNREACHABLE' });
    const held = () => Object.assign(new Error('held'), { code: 'E_NAME_HELD', retryAt: 1_000_000 + 60_000 });
    const { k, errors } = keeper(clock, [unreachable, unreachable, held]);
    const started = k.start();
    for (let i = 0; i < 70; i++) {
      await settle();
      clock.advance(1000);
    }
    await started;
    assert.deepEqual(
      errors.map((e) => e.code),
      ['E_ENCLAVE_UNREACHABLE', 'E_ENCLAVE_UNREACHABLE', 'E_NAME_HELD'],
    );
    assert.deepEqual(
      errors.slice(0, 2).map((e) => e.wait),
      [500, 1000],
    );
    assert.ok(errors[2]!.wait >= 60_000 - 1_500 - 1000, `waited ${errors[2]!.wait}`);
    assert.equal(k.current?.token, 't4');
    k.stop();
  });
});
