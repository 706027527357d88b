// The shapes the membership core shares with its parts and its shell: the
// settings it runs with, the effects it returns, and the view of a member it
// hands out. Types only, so every part can import them without importing the
// core (which imports the parts).
import type { MemberState } from '../../protocol/gossip-messages.ts';
import type { MembershipEvent } from './membership-events.ts';

export interface MembershipConfig {
  probeIntervalMs: number;
  probeTimeoutMs: number;
  indirectChecks: number;
  suspicionMult: number;
  suspicionMaxMult: number;
  gossipIntervalMs: number;
  gossipFanout: number;
  retransmitMult: number;
  pushPullIntervalMs: number;
  /** Unit of the gaps between the pulls after joining (see state-sync.ts). */
  pushPullAfterJoinMs: number;
  gossipToDeadMs: number;
  deadRetentionMs: number;
  awarenessMax: number;
  maxDatagramBytes: number;
  /** Most members the table holds, this peer included; more are refused and counted. */
  maxMembers: number;
}

/** What the core asks its shell to do: send encoded messages in one datagram, or report an event. */
export type MembershipEffect =
  | {
      type: 'send';
      to: string;
      messages: Uint8Array[];
      /**
       * This peer chose the address itself, so the shell sends even before
       * the address has proven it is a member's: a probe of a member at its
       * announced address (how it proves itself: it acks; such a ping carries
       * no rumours), a join to a seed from this peer's configuration or DNS, a
       * reconnect to a member that proved its address while alive. Never set
       * for an address a received datagram supplied.
       */
      chosen?: boolean;
    }
  | { type: 'event'; event: MembershipEvent };

export interface MemberSnapshot {
  name: string;
  address: string;
  state: MemberState;
  incarnation: number;
  publicKey: Uint8Array;
}
