// Suspicions read in another member's table (anti-entropy) are hearsay: held
// and timed here, never spread as this peer's own word nor counted as an
// independent confirmation. On a starved host, a peer that spread each one
// as its own started a fresh cluster-wide rumour per suspect in every pull
// answer (bench membership --peers 1000: thousands a second).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { GossipMessage } from '../../../src/protocol/gossip-messages.ts';
import { address, peer, record } from '../support/admitted-peer.ts';
import { pullAnswer } from '../support/sync-messages.ts';

/** A pull answer from `from` listing member `i` as `state`. */
function answer(i: number, state: 'suspect' | 'dead'): GossipMessage {
  return pullAnswer([{ state, ...record(i) }]);
}

/** Suspect rumours sent, as "name from suspector", except the buddy ping's copy to the suspect itself. */
const suspicionsSent = (sent: { to: string; message: GossipMessage }[]) =>
  sent.flatMap((s) =>
    s.message.type === 'suspect' && s.to !== address(Number(s.message.name.slice(1)))
      ? [`${s.message.name} from ${s.message.from}`]
      : [],
  );

describe('suspicions heard through anti-entropy', () => {
  for (const state of ['suspect', 'dead'] as const) {
    it(`holds a member listed ${state} in a pull answer as suspect, and starts no rumour of its own about it`, () => {
      const { core, run } = peer([3_600_000, 3_600_000, 3_600_000], 311);
      run(0, 1_000);
      core.receive(address(2), [answer(1, state)], 1_000);
      assert.equal(core.member('m1')?.state, 'suspect');
      const sent = run(1_000, 1_400);
      assert.deepEqual(
        suspicionsSent(sent).filter((s) => s.endsWith('from m0')),
        [],
        'no "suspect m1 from m0": m0 saw no evidence',
      );
    });
  }

  it('relays the rumour of the very member whose pull answer listed the suspect, once it comes', () => {
    const { core, run } = peer([3_600_000, 3_600_000, 3_600_000], 313);
    run(0, 1_000);
    core.receive(address(2), [answer(1, 'suspect')], 1_000);
    core.receive(address(2), [{ type: 'suspect', name: 'm1', incarnation: 1, from: 'm2' }], 1_000);
    const sent = run(1_000, 1_400);
    assert.ok(suspicionsSent(sent).includes('m1 from m2'), `relayed: ${suspicionsSent(sent).join(', ')}`);
  });

  it("still relays the suspector's own rumour when it comes, as a confirmation", () => {
    const { core, run } = peer([3_600_000, 3_600_000, 3_600_000], 312);
    run(0, 1_000);
    core.receive(address(2), [answer(1, 'suspect')], 1_000);
    core.receive(address(3), [{ type: 'suspect', name: 'm1', incarnation: 1, from: 'm3' }], 1_000);
    const sent = run(1_000, 1_400);
    assert.ok(suspicionsSent(sent).includes('m1 from m3'), `relayed: ${suspicionsSent(sent).join(', ')}`);
  });
});
