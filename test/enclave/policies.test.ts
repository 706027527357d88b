import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { certificateMatchesMembers, POLICIES, type Policy } from '../../src/crypto/leader-certificate.ts';
import { sortMembers } from '../../src/crypto/member-digest.ts';
import { LeaderFunction } from '../../src/enclave/leader-function.ts';
import { ManualClock } from '../../src/time/clock.ts';
import {
  electBody,
  entries,
  makeClient,
  makePeers,
  makePki,
  postJson,
  removeDir,
  standAll,
  startTestEnclave,
  type TestPki,
  tempDir,
} from './fixture.ts';

const LEASE_MS = 1000;
const peers = makePeers(5);

async function elections(pki: TestPki, policy: Policy, count: number) {
  const clock = new ManualClock(0, Date.now());
  const enclave = await startTestEnclave({ pki, clock, policy, leaseMs: LEASE_MS });
  const client = makeClient(enclave, pki, enclave.service.checksum, { clock });
  const results = [];
  try {
    for (let i = 0; i < count; i++) {
      results.push(await standAll(client, peers, {}, { enclave, clock }));
      clock.advance(LEASE_MS);
    }
  } finally {
    await enclave.close();
    removeDir(enclave.stateDir);
  }
  return results;
}

describe('leader-choice policies', () => {
  let pki: TestPki;
  before(() => {
    pki = makePki();
  });
  after(() => removeDir(pki.dir));

  it('highest-id picks the last of the sorted names, skipping a leader whose lease ran out', async () => {
    const [first, second] = await elections(pki, 'highest-id', 2);
    assert.equal(first!.claims.leader.name, 'peer-004');
    assert.equal(first!.claims.proof, null);
    assert.equal(second!.claims.leader.name, 'peer-003');
  });

  it('round-robin walks the sorted names after the previous leader', async () => {
    const names = (await elections(pki, 'round-robin', 6)).map((r) => r.claims.leader.name);
    assert.deepEqual(names, ['peer-000', 'peer-001', 'peer-002', 'peer-003', 'peer-004', 'peer-000']);
  });

  it('vrf certificates carry a proof any peer re-checks, and the choice matches the candidates', async () => {
    const results = await elections(pki, 'vrf', 12);
    for (const [i, { claims }] of results.entries()) {
      assert.equal(claims.policy, 'vrf');
      assert.equal(typeof claims.proof, 'string');
      const previous = i === 0 ? undefined : results[i - 1]!.claims.leader.name;
      const candidates = entries(peers).filter((p) => p.name !== previous);
      assert.ok(certificateMatchesMembers(claims, candidates), `epoch ${claims.epoch}`);
    }
    // Different epochs give different VRF inputs, so the choice moves around.
    assert.ok(new Set(results.map((r) => r.claims.leader.name)).size > 1);
  });

  it('the built-in function computes the index of each policy', async () => {
    const fn = LeaderFunction.load();
    const members = sortMembers(entries(peers)).map((m) => m.name);
    assert.equal(
      fn.choose({ policy: 'highest-id', members, epoch: 1, previousLeader: null, vrfOutput: null }),
      4,
    );
    assert.equal(
      fn.choose({ policy: 'round-robin', members, epoch: 1, previousLeader: 'peer-004', vrfOutput: null }),
      0,
    );
    assert.equal(
      fn.choose({ policy: 'vrf', members, epoch: 1, previousLeader: null, vrfOutput: 'ff'.repeat(32) }),
      0,
    );
    assert.equal(
      fn.choose({
        policy: 'vrf',
        members,
        epoch: 1,
        previousLeader: null,
        vrfOutput: `${'00'.repeat(31)}07`,
      }),
      2,
    );
  });

  // The bundle is self-contained (its bytes are the pinned checksum), so it cannot
  // import POLICIES: this keeps its switch and the list in step.
  it('the built-in function knows every policy in POLICIES and no other', () => {
    const fn = LeaderFunction.load();
    const members = ['peer-000', 'peer-001'];
    for (const policy of POLICIES) {
      const index = fn.choose({ policy, members, epoch: 1, previousLeader: null, vrfOutput: '01' });
      assert.ok(index === 0 || index === 1, `${policy} chose ${index}`);
    }
    assert.throws(
      () =>
        fn.choose({
          policy: 'lowest-id' as Policy,
          members,
          epoch: 1,
          previousLeader: null,
          vrfOutput: null,
        }),
      /unknown policy/,
    );
  });

  it('refuses a bundle without leaderChoice.choose, and a run that throws, loops or returns no index', async () => {
    const dir = tempDir('fn');
    try {
      const write = (name: string, source: string) => {
        writeFileSync(join(dir, name), source);
        return join(dir, name);
      };
      assert.throws(() => LeaderFunction.load(write('none.js', 'globalThis.x = 1;')), {
        code: 'E_FUNCTION_INVALID',
      });
      assert.throws(() => LeaderFunction.load(write('syntax.js', 'globalThis.leaderChoice = {')), {
        code: 'E_FUNCTION_INVALID',
      });
      const input = {
        policy: 'vrf' as const,
        members: ['a', 'b'],
        epoch: 1,
        previousLeader: null,
        vrfOutput: '00',
      };
      for (const body of [
        'return 2;',
        'return -1;',
        'return "0";',
        'throw new Error("no");',
        'for (;;) {}',
      ]) {
        const fn = LeaderFunction.load(
          write('bad.js', `globalThis.leaderChoice = { choose() { ${body} } };`),
        );
        assert.throws(() => fn.choose(input), { code: 'E_FUNCTION_FAILED' }, body);
      }
      // The enclave answers 500 with the code and grants nothing.
      const enclave = await startTestEnclave({
        pki,
        functionPath: write('minus.js', 'globalThis.leaderChoice = { choose() { return -1; } };'),
      });
      try {
        const reply = await postJson(`${enclave.url}/v1/elect`, electBody(peers[0]!));
        assert.equal(reply.status, 500);
        assert.equal(reply.body.error?.code, 'E_FUNCTION_FAILED');
        assert.equal(enclave.service.state.epoch, 0);
      } finally {
        await enclave.close();
        removeDir(enclave.stateDir);
      }
    } finally {
      removeDir(dir);
    }
  });
});
