// Gossip message types: what SWIM peers say to each other. The codec
// (gossip-codec.ts) turns these into bytes and back; docs/protocol/gossip.md
// describes the layout. Addresses are "a.b.c.d:port" strings; identity is a
// name plus an Ed25519 public key, never an address.
import { MEMBER_NAME_MAX_BYTES } from './member-name.ts';

export type MemberState = 'alive' | 'suspect' | 'dead' | 'left';
export const MEMBER_STATES: readonly MemberState[] = ['alive', 'suspect', 'dead', 'left'];

/** One member as the whole cluster should know it. */
export interface MemberRecord {
  name: string;
  incarnation: number;
  /** Where its gossip socket listens, "ip:port". */
  address: string;
  /** Raw 32-byte Ed25519 public key. */
  publicKey: Uint8Array;
  /**
   * Ed25519 signature (64 bytes) by `publicKey` over the other fields
   * (src/crypto/member-record-signature.ts); absent on the wire as 64 zero bytes.
   */
  signature?: Uint8Array;
}

/** One member and its state, as a push-pull state sync carries it. */
export interface MemberSyncEntry extends MemberRecord {
  state: MemberState;
  /**
   * The member's admission (base64url, as AdmissionMessage's token), beside an
   * alive record: a peer that lacks it lists the member without asking for it.
   */
  admission?: string;
}

export interface PingMessage {
  type: 'ping';
  seq: number;
  /** Name the sender expects to reach; a peer answers only pings meant for it. */
  target: string;
  source: string;
}

export interface IndirectPingMessage {
  type: 'indirect-ping';
  seq: number;
  target: string;
  targetAddress: string;
  source: string;
}

export interface AckMessage {
  type: 'ack';
  seq: number;
}

/** Lifeguard: an indirect prober says "I tried and heard nothing". */
export interface NackMessage {
  type: 'nack';
  seq: number;
}

export interface AliveMessage {
  type: 'alive';
  member: MemberRecord;
  /** The member's admission, riding with its record (see MemberSyncEntry.admission). */
  admission?: string;
}

export interface SuspectMessage {
  type: 'suspect';
  name: string;
  incarnation: number;
  from: string;
}

export interface DeadMessage {
  type: 'dead';
  name: string;
  incarnation: number;
  from: string;
}

export interface LeftMessage {
  type: 'left';
  name: string;
  incarnation: number;
}

/**
 * Anti-entropy: one part of a full state exchange. Every part is self-contained
 * (entries merge independently), so a lost part only delays convergence.
 */
export interface PushPullMessage {
  type: 'push-pull';
  syncId: number;
  join: boolean;
  response: boolean;
  part: number;
  parts: number;
  entries: MemberSyncEntry[];
}

/**
 * Anti-entropy by difference: "send me your entries in this bucket whose hash
 * is not one of these". Members fall into `buckets` by a hash of their name,
 * so each part is self-contained; the answer is push-pull response parts with
 * only what the sender lacks or holds differently (nothing if nothing).
 */
export interface PullMessage {
  type: 'pull';
  syncId: number;
  bucket: number;
  buckets: number;
  /** 32-bit hashes of the sender's encoded entries in this bucket. */
  hashes: number[];
}

/**
 * A payload that higher layers spread by gossip (e.g. leader certificates).
 * `key` names what it supersedes: a newer broadcast with the same topic and
 * key replaces an older one in the retransmit queue.
 */
export interface UserBroadcastMessage {
  type: 'broadcast';
  topic: string;
  key: string;
  payload: Uint8Array;
}

/** An admission certificate (docs/security.md): the enclave vouches for a member's name and key. */
export interface AdmissionMessage {
  type: 'admission';
  /** The admission's bytes as base64url text (src/crypto/admission-certificate.ts); raw bytes on the wire. */
  token: string;
}

/**
 * "I am `source`; send me the admissions of these members": answered only when
 * `source` is a live listed member at the address the request came from.
 */
export interface AdmissionRequestMessage {
  type: 'admission-request';
  source: string;
  names: string[];
}

/**
 * Bytes that carry nothing: a joiner pads its first push to a full datagram,
 * so the seed may answer with as many bytes (no peer sends an address that
 * has not proven itself more than it received from it; QUIC pads its first
 * flight for the same reason).
 */
export interface PaddingMessage {
  type: 'padding';
  bytes: number;
}

export type GossipMessage =
  | PingMessage
  | IndirectPingMessage
  | AckMessage
  | NackMessage
  | AliveMessage
  | SuspectMessage
  | DeadMessage
  | LeftMessage
  | PushPullMessage
  | PullMessage
  | UserBroadcastMessage
  | AdmissionMessage
  | AdmissionRequestMessage
  | PaddingMessage;

/** Wire type codes. Codes not listed are skipped by length (room for new kinds). */
export const MESSAGE_CODES = {
  ping: 1,
  'indirect-ping': 2,
  ack: 3,
  nack: 4,
  alive: 5,
  suspect: 6,
  dead: 7,
  left: 8,
  'push-pull': 9,
  broadcast: 10,
  pull: 11,
  admission: 12,
  'admission-request': 13,
  padding: 255,
} as const satisfies Record<GossipMessage['type'], number>;

export const WIRE_LIMITS = {
  /** Member names follow the one rule of member-name.ts (1..63 bytes, starting alphanumeric). */
  nameMaxBytes: MEMBER_NAME_MAX_BYTES,
  topicMaxBytes: 32,
  keyMaxBytes: 64,
  publicKeyBytes: 32,
  /**
   * Incarnations above this are refused on the wire. A start incarnation is
   * wall-clock ms (about 2^41 in 2026), so this leaves room for centuries of
   * restarts, while a refutation (one above any accepted claim, clamped here)
   * always stays a safe integer the codec can write.
   */
  incarnationMax: 2 ** 48,
  /** Messages per datagram: a full 1400-byte datagram of the smallest messages stays below this. */
  messagesMax: 255,
  pushPullPartsMax: 4096,
  /** Hashes in one pull message (4 bytes each): fits a 1400-byte datagram. */
  pullHashesMax: 340,
  /** A broadcast payload must fit one datagram; larger ones need a fragment kind (reserved, see docs). */
  payloadMaxBytes: 8192,
  datagramMaxBytes: 65_507,
  /** Record signatures: Ed25519, 64 bytes. */
  signatureBytes: 64,
  /** An admission is 130 to 235 bytes (admission-certificate.ts): one length byte. */
  admissionMaxBytes: 255,
  /** Names per admission request: the answer (at most about 150 bytes each) fits one or two datagrams. */
  admissionNamesMax: 8,
} as const;

/** Broadcast keys (not member names): 1..64 bytes of [A-Za-z0-9._-]. */
export const KEY_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
export const TOPIC_PATTERN = /^[A-Za-z0-9._-]{1,32}$/;
