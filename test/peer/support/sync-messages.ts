import type { GossipMessage, MemberSyncEntry } from '../../../src/protocol/gossip-messages.ts';

/** A one-part pull answer (push-pull response) carrying `entries`. */
export function pullAnswer(entries: MemberSyncEntry[]): GossipMessage {
  return { type: 'push-pull', syncId: 1, join: false, response: true, part: 0, parts: 1, entries };
}
