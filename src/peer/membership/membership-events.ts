// What the membership core reports to its shell: log lines and hooks for
// higher layers (readiness, leader certificates riding on gossip).

/** Why a well-formed message changed nothing: counted by the shell, logged at debug. */
export type IgnoredReason =
  /** A ping for another member. */
  | 'wrong-target'
  /** A new member while the table is full (see MembershipConfig.maxMembers). */
  | 'table-full'
  /** An indirect probe of someone not a live member at that address (reflection). */
  | 'indirect-target'
  /** An indirect probe of a member already being probed for someone, or too many at once. */
  | 'relay-limit'
  /** A second state exchange in one datagram, or more than a source's share per second. */
  | 'sync-limit'
  /**
   * A suspect, dead or left claim at an incarnation the member never signed
   * (above its last record; about this peer, near the wire's ceiling).
   */
  | 'unsigned-incarnation';

export type MembershipEvent =
  | { event: 'member.joined'; member: string; address: string; incarnation: number }
  | { event: 'member.updated'; member: string; address: string; incarnation: number }
  | { event: 'member.suspect'; member: string; incarnation: number; from: string }
  | { event: 'member.alive'; member: string; incarnation: number }
  | { event: 'member.dead'; member: string; incarnation: number; from: string }
  | { event: 'member.left'; member: string; incarnation: number }
  | { event: 'member.removed'; member: string }
  | { event: 'member.conflict'; member: string; address: string; incarnation: number }
  | { event: 'self.refuted'; incarnation: number; accusation: 'alive' | 'suspect' | 'dead' | 'left' }
  | { event: 'self.readdressed'; address: string; incarnation: number }
  | { event: 'join.succeeded'; via: string; members: number }
  | { event: 'probe.failed'; member: string; nacks: number; expectedNacks: number }
  | { event: 'message.ignored'; reason: IgnoredReason }
  | { event: 'internal.error'; error: string }
  | {
      event: 'record.refused';
      member: string;
      reason: 'unsigned' | 'no-admission' | 'wrong-key' | 'bad-signature';
    }
  | { event: 'admission.refused'; reason: 'unknown-kid' | 'invalid' | 'expired' | 'superseded' }
  | { event: 'admission.request_ignored'; from: string }
  | { event: 'broadcast.received'; topic: string; key: string; payload: Uint8Array; from: string };
