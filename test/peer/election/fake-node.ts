// Just enough of a MembershipNode for the election shell's tests: alive
// members, recorded broadcasts and direct sends, injectable membership events.
import type { MembershipEvent } from '../../../src/peer/membership/membership-events.ts';
import type { MembershipNode } from '../../../src/peer/membership-node.ts';
import type { TestPeer } from '../../enclave/fixture.ts';

const raw = (peer: TestPeer) => new Uint8Array(Buffer.from(peer.key, 'base64url'));

/** Just enough of a MembershipNode: alive members, recorded broadcasts, injectable events. */
export function fakeNode(self: TestPeer, others: TestPeer[] = []) {
  const listeners: ((e: MembershipEvent) => void)[] = [];
  const broadcasts: { topic: string; key: string; payload: Uint8Array; piggybackOnly: boolean }[] = [];
  const direct: { to: string; topic: string; key: string; payload: Uint8Array }[] = [];
  const member = (p: TestPeer) => ({
    name: p.name,
    publicKey: raw(p),
    state: 'alive',
    address: '127.0.0.1:1',
    incarnation: 1,
  });
  const node = {
    name: self.name,
    self: member(self),
    members: () => [member(self), ...others.map(member)],
    on: (l: (e: MembershipEvent) => void) => listeners.push(l),
    broadcast: (topic: string, key: string, payload: Uint8Array, options?: { piggybackOnly?: boolean }) =>
      broadcasts.push({ topic, key, payload, piggybackOnly: options?.piggybackOnly === true }),
    sendTo: (to: string, topic: string, key: string, payload: Uint8Array) =>
      direct.push({ to, topic, key, payload }),
    probeNext: () => {},
  };
  const emit = (e: MembershipEvent) => {
    for (const l of listeners) l(e);
  };
  return { node: node as unknown as MembershipNode, broadcasts, direct, emit };
}
