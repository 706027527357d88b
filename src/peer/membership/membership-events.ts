// What the membership core reports to its shell: log lines and hooks for
// higher layers (readiness, leader certificates riding on gossip).

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
  | { event: 'message.ignored'; reason: 'wrong-target' }
  | { event: 'internal.error'; error: string }
  | {
      event: 'record.refused';
      member: string;
      reason: 'unsigned' | 'no-admission' | 'wrong-key' | 'bad-signature';
    }
  | { event: 'admission.refused'; reason: 'unknown-kid' | 'invalid' | 'expired' | 'superseded' }
  | { event: 'admission.request_ignored'; from: string }
  | { event: 'broadcast.received'; topic: string; key: string; payload: Uint8Array; from: string };
