// Gossip wire codec: a versioned envelope carrying one or more length-prefixed
// messages, optionally sealed with AES-256-GCM. Decoding is strict (every field
// bounded, no trailing bytes) and returns a result instead of throwing, so a bad
// datagram is dropped and counted by reason. Layout: docs/protocol/gossip.md.
import { allocBytes, bytesEqualAt, keepBytes } from '../platform/byte-slabs.ts';
import { ByteReader, ByteWriter, WireFormatError } from './byte-buffer.ts';
import { DecodeCache } from './decode-cache.ts';
import type { Keyring } from './gossip-keyring.ts';
import {
  type AliveMessage,
  type GossipMessage,
  KEY_PATTERN,
  MEMBER_STATES,
  MESSAGE_CODES,
  type MemberRecord,
  type MemberState,
  type MemberSyncEntry,
  TOPIC_PATTERN,
  WIRE_LIMITS,
} from './gossip-messages.ts';
import { MEMBER_NAME_PATTERN as NAME_PATTERN } from './member-name.ts';
import type { ReplayWindow } from './replay-window.ts';

export const WIRE_MAGIC = 0xe7;
export const WIRE_VERSION = 2;
const FLAG_ENCRYPTED = 0x01;
/** Sealed with a binding (time sealed, destination) under the seal: replay-proof. */
const FLAG_BOUND = 0x02;
const HEADER_BYTES = 3;
/** Binding inside a sealed body: sealed-at ms (8) and destination address (7). */
const BINDING_BYTES = 8 + 7;
/** Header plus the message count byte. */
export const ENVELOPE_OVERHEAD = HEADER_BYTES + 1;
/** Per message: type code (1) and body length (2). */
export const MESSAGE_OVERHEAD = 3;
/** push-pull flag bits. */
const FLAG_JOIN = 1;
const FLAG_RESPONSE = 2;

export type DropReason =
  | 'too-short'
  | 'too-long'
  | 'bad-magic'
  | 'bad-version'
  | 'bad-flags'
  | 'unencrypted'
  | 'encrypted-without-key'
  | 'decrypt-failed'
  | 'unbound'
  | 'stale'
  | 'replayed'
  | 'misdirected'
  | 'bad-count'
  | 'truncated'
  | 'trailing-bytes'
  | 'bad-name'
  | 'bad-address'
  | 'bad-key'
  | 'bad-number'
  | 'bad-state'
  | 'bad-signature'
  | 'bad-field';

export type DecodeResult =
  | { ok: true; messages: GossipMessage[]; unknownTypes: number }
  | { ok: false; reason: DropReason };

const CODE_TO_TYPE = new Map<number, GossipMessage['type']>(
  Object.entries(MESSAGE_CODES).map(([type, code]) => [code, type as GossipMessage['type']]),
);
const STATE_CODES: Record<MemberState, number> = { alive: 0, suspect: 1, dead: 2, left: 3 };

// ---- encoding -------------------------------------------------------------

function writeString(w: ByteWriter, value: string, pattern: RegExp, field: string): void {
  if (!pattern.test(value)) throw new WireFormatError('bad-field', `${field} '${value}' not encodable`);
  // The pattern admits ASCII only: one byte per character.
  w.u8(value.length);
  for (let i = 0; i < value.length; i++) w.u8(value.charCodeAt(i));
}

function writeAddress(w: ByteWriter, address: string): void {
  const parsed = parseAddress(address);
  if (!parsed) throw new WireFormatError('bad-address', `'${address}' is not ipv4:port`);
  w.u8(4).bytes(parsed.ip).u16(parsed.port);
}

function writeRecord(w: ByteWriter, m: MemberRecord): void {
  writeString(w, m.name, NAME_PATTERN, 'name');
  w.u53(m.incarnation);
  writeAddress(w, m.address);
  if (m.publicKey.length !== WIRE_LIMITS.publicKeyBytes) throw new WireFormatError('bad-key');
  w.bytes(m.publicKey);
  writeSignature(w, m.signature);
}

const NO_SIGNATURE = new Uint8Array(WIRE_LIMITS.signatureBytes);

function writeSignature(w: ByteWriter, signature: Uint8Array | undefined): void {
  if (signature && signature.length !== WIRE_LIMITS.signatureBytes)
    throw new WireFormatError('bad-signature');
  w.bytes(signature ?? NO_SIGNATURE);
}

/** base64url without padding (admission tokens). */
const BASE64URL_PATTERN = /^[A-Za-z0-9_-]+$/;

/** An admission as one length byte and its bytes. Text is base64url (HTTP, logs); the admission's own checks judge the bytes. */
function writeToken(w: ByteWriter, token: string): void {
  const bytes = BASE64URL_PATTERN.test(token) ? Buffer.from(token, 'base64url') : undefined;
  if (!bytes || bytes.length > WIRE_LIMITS.admissionMaxBytes || bytes.toString('base64url') !== token)
    throw new WireFormatError('bad-field', 'admission token');
  w.u8(bytes.length).bytes(bytes);
}

/** The admission beside a record: a zero length byte when there is none (an admission is never empty). */
function writeAdmission(w: ByteWriter, token: string | undefined): void {
  if (token === undefined) w.u8(0);
  else writeToken(w, token);
}

function writeEntry(w: ByteWriter, entry: MemberSyncEntry): void {
  writeRecord(w.u8(STATE_CODES[entry.state]), entry);
  writeAdmission(w, entry.admission);
}

function writeBody(w: ByteWriter, m: GossipMessage): void {
  switch (m.type) {
    case 'ping':
      w.u32(m.seq);
      writeString(w, m.target, NAME_PATTERN, 'target');
      writeString(w, m.source, NAME_PATTERN, 'source');
      return;
    case 'indirect-ping':
      w.u32(m.seq);
      writeString(w, m.target, NAME_PATTERN, 'target');
      writeAddress(w, m.targetAddress);
      writeString(w, m.source, NAME_PATTERN, 'source');
      return;
    case 'ack':
    case 'nack':
      w.u32(m.seq);
      return;
    case 'alive':
      writeRecord(w, m.member);
      writeAdmission(w, m.admission);
      return;
    case 'suspect':
    case 'dead':
      writeString(w, m.name, NAME_PATTERN, 'name');
      w.u53(m.incarnation);
      writeString(w, m.from, NAME_PATTERN, 'from');
      return;
    case 'left':
      writeString(w, m.name, NAME_PATTERN, 'name');
      w.u53(m.incarnation);
      return;
    case 'push-pull':
      w.u32(m.syncId);
      w.u8((m.join ? FLAG_JOIN : 0) | (m.response ? FLAG_RESPONSE : 0));
      w.u16(m.part).u16(m.parts).u16(m.entries.length);
      for (const entry of m.entries) writeEntry(w, entry);
      return;
    case 'pull':
      if (m.hashes.length > WIRE_LIMITS.pullHashesMax) throw new WireFormatError('bad-field', 'pull hashes');
      w.u32(m.syncId).u8(m.bucket).u8(m.buckets).u16(m.hashes.length);
      for (const hash of m.hashes) w.u32(hash);
      return;
    case 'admission':
      writeToken(w, m.token);
      return;
    case 'admission-request':
      if (m.names.length < 1 || m.names.length > WIRE_LIMITS.admissionNamesMax)
        throw new WireFormatError('bad-field', 'admission-request names');
      writeString(w, m.source, NAME_PATTERN, 'source');
      w.u8(m.names.length);
      for (const name of m.names) writeString(w, name, NAME_PATTERN, 'name');
      return;
    case 'padding':
      w.bytes(new Uint8Array(m.bytes));
      return;
    case 'broadcast':
      writeString(w, m.topic, TOPIC_PATTERN, 'topic');
      writeString(w, m.key, KEY_PATTERN, 'key');
      if (m.payload.length > WIRE_LIMITS.payloadMaxBytes) throw new WireFormatError('bad-field', 'payload');
      w.u16(m.payload.length).bytes(m.payload);
      return;
  }
}

/** One message with its type code and length prefix. Throws on unencodable values (a bug, not input). */
export function encodeMessage(message: GossipMessage): Uint8Array {
  return encodeMessageBytes(message, false);
}

/** encodeMessage, for bytes kept for long (see keepBytes): a rumour queued for seconds. */
export function encodeKeptMessage(message: GossipMessage): Uint8Array {
  return encodeMessageBytes(message, true);
}

function encodeMessageBytes(message: GossipMessage, kept: boolean): Uint8Array {
  const capacity =
    message.type === 'admission'
      ? 256
      : message.type === 'alive'
        ? message.admission === undefined
          ? 192
          : 448
        : message.type === 'broadcast'
          ? 192
          : 64;
  return ByteWriter.encode(
    capacity,
    (w) => {
      w.u8(MESSAGE_CODES[message.type]).u16(0);
      writeBody(w, message);
      w.patchU16(1, w.length - MESSAGE_OVERHEAD);
    },
    kept,
  );
}

/** Bytes a datagram spends on everything but its messages. */
export function datagramOverhead(keyring: Keyring | undefined): number {
  return ENVELOPE_OVERHEAD + (keyring ? keyring.overhead + BINDING_BYTES : 0);
}

/** What a sealed datagram binds under its seal, so a replay or a redirect is refused. */
export interface SealBinding {
  /** The address it is sent to, "ip:port". */
  to: string;
  /** Sender's wall clock, ms. */
  sealedAt: number;
}

/** What a receiver checks a sealed datagram's binding against. */
export interface OpenChecks {
  /** Receiver's wall clock, ms. */
  now: number;
  /** Whether "ip:port" is one of the receiver's own addresses. */
  isLocalAddress(address: string): boolean;
  replay: ReplayWindow;
}

/**
 * Encode messages (already encoded with encodeMessage, or plain) into one
 * datagram. With a keyring it is sealed and `binding` is required.
 */
export function encodeDatagram(
  messages: (GossipMessage | Uint8Array)[],
  keyring?: Keyring,
  binding?: SealBinding,
): Uint8Array {
  if (messages.length === 0 || messages.length > WIRE_LIMITS.messagesMax) {
    throw new WireFormatError('bad-count', `${messages.length} messages`);
  }
  // One allocation for the common plaintext case: header, count, messages.
  const encoded = messages.map((m) => (m instanceof Uint8Array ? m : encodeMessage(m)));
  let size = ENVELOPE_OVERHEAD;
  for (const m of encoded) size += m.length;
  if (keyring && !binding) throw new Error('a sealed datagram needs its binding (destination, time)');
  const bound = keyring ? BINDING_BYTES : 0;
  const out = allocBytes(size + bound);
  out[0] = WIRE_MAGIC;
  out[1] = WIRE_VERSION;
  out[2] = keyring ? FLAG_ENCRYPTED | FLAG_BOUND : 0;
  if (keyring && binding) {
    const bytes = ByteWriter.encode(BINDING_BYTES, (w) => writeAddress(w.u53(binding.sealedAt), binding.to));
    out.set(bytes, HEADER_BYTES);
  }
  out[HEADER_BYTES + bound] = encoded.length;
  let at = ENVELOPE_OVERHEAD + bound;
  for (const m of encoded) {
    out.set(m, at);
    at += m.length;
  }
  if (!keyring) return out;
  const header = out.subarray(0, HEADER_BYTES);
  const sealed = keyring.seal(header, out.subarray(HEADER_BYTES));
  const result = new Uint8Array(HEADER_BYTES + sealed.length);
  result.set(header);
  result.set(sealed, HEADER_BYTES);
  return result;
}

/** One push-pull entry (state + record), cacheable per member. */
export function encodeMemberSyncEntry(entry: MemberSyncEntry): Uint8Array {
  return ByteWriter.encode(entry.admission === undefined ? 160 : 416, (w) => writeEntry(w, entry), true);
}

const PUSH_PULL_HEADER = MESSAGE_OVERHEAD + 4 + 1 + 2 + 2 + 2;

/**
 * A full state exchange as push-pull messages of at most `maxMessageBytes`
 * each (one per datagram), from entries encoded with encodeMemberSyncEntry.
 */
export function encodePushPull(
  head: { syncId: number; join: boolean; response: boolean },
  entries: readonly Uint8Array[],
  maxMessageBytes: number,
): Uint8Array[] {
  const header = PUSH_PULL_HEADER;
  const groups: Uint8Array[][] = [[]];
  let used = header;
  for (const entry of entries) {
    if (used + entry.length > maxMessageBytes && groups.at(-1)!.length > 0) {
      groups.push([]);
      used = header;
    }
    groups.at(-1)!.push(entry);
    used += entry.length;
  }
  return groups.map((group, part) =>
    ByteWriter.encode(maxMessageBytes, (w) => {
      w.u8(MESSAGE_CODES['push-pull']).u16(0).u32(head.syncId);
      w.u8((head.join ? FLAG_JOIN : 0) | (head.response ? FLAG_RESPONSE : 0));
      w.u16(part).u16(groups.length).u16(group.length);
      for (const entry of group) w.bytes(entry);
      w.patchU16(1, w.length - MESSAGE_OVERHEAD);
    }),
  );
}

// ---- decoding -------------------------------------------------------------

/**
 * A decoded record whose bytes are its own: decoded keys and signatures are
 * views into the datagram, which a record kept for long must not hold alive.
 */
export function detachRecord(record: MemberRecord): MemberRecord {
  const { name, incarnation, address, signature } = record;
  return memberRecord(
    name,
    incarnation,
    address,
    keepBytes(record.publicKey),
    signature && keepBytes(signature),
  );
}

/** An alive message, with the admission beside its record when there is one (no `admission: undefined` key). */
export function aliveMessage(member: MemberRecord, admission: string | undefined): AliveMessage {
  return admission === undefined ? { type: 'alive', member } : { type: 'alive', member, admission };
}

/**
 * A record object, always built here and in this field order, so records
 * decoded, detached or taken from a sync entry share two hidden classes
 * (signed or not) and the code reading them stays fast.
 */
export function memberRecord(
  name: string,
  incarnation: number,
  address: string,
  publicKey: Uint8Array,
  signature: Uint8Array | undefined,
): MemberRecord {
  return signature
    ? { name, incarnation, address, publicKey, signature }
    : { name, incarnation, address, publicKey };
}

/** Bytes allowed in names, topics and keys: [A-Za-z0-9._-]. */
const NAME_BYTE = new Uint8Array(256);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-')
  NAME_BYTE[c.charCodeAt(0)] = 1;

/** Names decoded before (see decode-cache.ts); a hit compares every byte. */
const interned = new DecodeCache<string>(16_384, (known, bytes, at, length) => {
  if (known.length !== length) return false;
  for (let i = 0; i < length; i++) if (known.charCodeAt(i) !== bytes[at + i]) return false;
  return true;
});

// Names are ASCII by rule, so they are checked and built byte by byte (no UTF-8 decoder).
function readString(r: ByteReader, maxBytes: number, reason: DropReason): string {
  const length = r.u8();
  if (length === 0 || length > maxBytes) throw new WireFormatError(reason, 'length');
  const at = r.skip(length);
  const bytes = r.source;
  let hash = 0x811c9dc5 ^ length;
  for (let i = at; i < at + length; i++) hash = Math.imul(hash ^ bytes[i]!, 0x01000193);
  hash &= 0x3fffffff;
  // The cached text passed the check below when it was built: equal bytes pass it too.
  const known = interned.hit(hash, bytes, at, length);
  if (known !== undefined) return known;
  for (let i = at; i < at + length; i++) if (NAME_BYTE[bytes[i]!] !== 1) throw new WireFormatError(reason);
  return interned.keep(
    hash,
    String.fromCharCode.apply(null, bytes.subarray(at, at + length) as unknown as number[]),
  );
}

const isAlphanumeric = (c: number) => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);

/** A member name by the one rule (member-name.ts): as readString, and starting with a letter or digit. */
function readName(r: ByteReader): string {
  const name = readString(r, WIRE_LIMITS.nameMaxBytes, 'bad-name');
  if (!isAlphanumeric(name.charCodeAt(0))) throw new WireFormatError('bad-name', 'first character');
  return name;
}

function readIncarnation(r: ByteReader): number {
  const incarnation = r.u53();
  if (incarnation > WIRE_LIMITS.incarnationMax) throw new WireFormatError('bad-number', 'incarnation');
  return incarnation;
}

function readAddress(r: ByteReader): string {
  const family = r.u8();
  if (family !== 4) throw new WireFormatError('bad-address', `family ${family}`);
  // Four bytes of address, then the port (big-endian), read in place.
  const at = r.skip(6);
  const b = r.source;
  const port = (b[at + 4]! << 8) | b[at + 5]!;
  if (port === 0) throw new WireFormatError('bad-address', 'port 0');
  const ip32 = ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
  // The product's high bits depend on every input bit (its low bits only on the low ones).
  const hash = Math.imul(ip32 ^ Math.imul(port, 0x9e3779b1), 0x01000193) >>> 2;
  const known = internedAddresses.hit(hash, b, at, 6);
  if (known !== undefined) return known.text;
  const text = `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}:${port}`;
  return internedAddresses.keep(hash, { ip: ip32, port, text }).text;
}

/**
 * Admission texts decoded before, as `interned` keeps names: every member
 * meets every admission about once per peer, and the same text object also
 * keeps its hash for the maps it is looked up in (the admission memo, the
 * book, the answers' cache). A hit compares the bytes in full.
 */
const internedTokens = new DecodeCache<{ bytes: Uint8Array; text: string }>(
  4_096,
  (known, source, at, length) => known.bytes.length === length && bytesEqualAt(source, at, known.bytes),
);

function readToken(source: Uint8Array, at: number, length: number): string {
  let hash = 0x811c9dc5 ^ length;
  for (let i = at; i < at + length; i++) hash = Math.imul(hash ^ source[i]!, 0x01000193);
  hash = (hash >>> 2) ^ length;
  const known = internedTokens.hit(hash, source, at, length);
  if (known !== undefined) return known.text;
  const bytes = keepBytes(source.subarray(at, at + length));
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
  return internedTokens.keep(hash, { bytes, text }).text;
}

/** Addresses decoded before, as `interned` keeps names (a hit compares address and port). */
const internedAddresses = new DecodeCache<{ ip: number; port: number; text: string }>(
  16_384,
  (known, b, at) =>
    known.ip === ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0 &&
    known.port === ((b[at + 4]! << 8) | b[at + 5]!),
);

function isZero(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) if (bytes[i] !== 0) return false;
  return true;
}

function readRecord(r: ByteReader): MemberRecord {
  const name = readName(r);
  const incarnation = readIncarnation(r);
  const address = readAddress(r);
  // A view into the datagram: whoever keeps it copies it (most entries are discarded).
  const publicKey = r.bytesOf(WIRE_LIMITS.publicKeyBytes);
  const signature = r.bytesOf(WIRE_LIMITS.signatureBytes);
  return memberRecord(name, incarnation, address, publicKey, isZero(signature) ? undefined : signature);
}

/** The admission beside a record (writeAdmission), or undefined for none. */
function readAdmission(r: ByteReader): string | undefined {
  const length = r.u8();
  return length === 0 ? undefined : readToken(r.source, r.skip(length), length);
}

function readBody(type: GossipMessage['type'], r: ByteReader): GossipMessage {
  switch (type) {
    case 'ping': {
      const seq = r.u32();
      const target = readName(r);
      return { type, seq, target, source: readName(r) };
    }
    case 'indirect-ping': {
      const seq = r.u32();
      const target = readName(r);
      const targetAddress = readAddress(r);
      return {
        type,
        seq,
        target,
        targetAddress,
        source: readName(r),
      };
    }
    case 'ack':
    case 'nack':
      return { type, seq: r.u32() };
    case 'alive': {
      const member = readRecord(r);
      return aliveMessage(member, readAdmission(r));
    }
    case 'suspect':
    case 'dead': {
      const name = readName(r);
      const incarnation = readIncarnation(r);
      return { type, name, incarnation, from: readName(r) };
    }
    case 'left': {
      const name = readName(r);
      return { type, name, incarnation: readIncarnation(r) };
    }
    case 'push-pull': {
      const syncId = r.u32();
      const flags = r.u8();
      if (flags > 3) throw new WireFormatError('bad-field', 'push-pull flags');
      const part = r.u16();
      const parts = r.u16();
      if (parts < 1 || parts > WIRE_LIMITS.pushPullPartsMax || part >= parts) {
        throw new WireFormatError('bad-field', 'push-pull part');
      }
      const count = r.u16();
      const entries: MemberSyncEntry[] = [];
      for (let i = 0; i < count; i++) {
        const state = MEMBER_STATES[r.u8()];
        if (state === undefined) throw new WireFormatError('bad-state');
        const entry: MemberSyncEntry = { state, ...readRecord(r) };
        const admission = readAdmission(r);
        if (admission !== undefined) entry.admission = admission;
        entries.push(entry);
      }
      return {
        type,
        syncId,
        join: (flags & FLAG_JOIN) !== 0,
        response: (flags & FLAG_RESPONSE) !== 0,
        part,
        parts,
        entries,
      };
    }
    case 'pull': {
      const syncId = r.u32();
      const bucket = r.u8();
      const buckets = r.u8();
      if (buckets < 1 || bucket >= buckets) throw new WireFormatError('bad-field', 'pull bucket');
      const count = r.u16();
      if (count > WIRE_LIMITS.pullHashesMax) throw new WireFormatError('bad-field', 'pull hashes');
      const hashes: number[] = [];
      for (let i = 0; i < count; i++) hashes.push(r.u32());
      return { type, syncId, bucket, buckets, hashes };
    }
    case 'admission': {
      // One length byte: at most admissionMaxBytes (255) by construction.
      const length = r.u8();
      if (length === 0) throw new WireFormatError('bad-field', 'admission token');
      return { type, token: readToken(r.source, r.skip(length), length) };
    }
    case 'admission-request': {
      const source = readString(r, WIRE_LIMITS.nameMaxBytes, 'bad-name');
      const count = r.u8();
      if (count < 1 || count > WIRE_LIMITS.admissionNamesMax)
        throw new WireFormatError('bad-field', 'admission-request names');
      const names: string[] = [];
      for (let i = 0; i < count; i++) names.push(readString(r, WIRE_LIMITS.nameMaxBytes, 'bad-name'));
      return { type, source, names };
    }
    case 'padding':
      return { type, bytes: r.bytesOf(r.remaining).length };
    case 'broadcast': {
      const topic = readString(r, WIRE_LIMITS.topicMaxBytes, 'bad-field');
      const key = readString(r, WIRE_LIMITS.keyMaxBytes, 'bad-field');
      const length = r.u16();
      if (length > WIRE_LIMITS.payloadMaxBytes) throw new WireFormatError('bad-field', 'payload length');
      return { type, topic, key, payload: new Uint8Array(r.bytesOf(length)) };
    }
  }
}

function decodeMessages(body: ByteReader): { messages: GossipMessage[]; unknownTypes: number } {
  const count = body.u8();
  if (count === 0) throw new WireFormatError('bad-count');
  const messages: GossipMessage[] = [];
  let unknownTypes = 0;
  for (let i = 0; i < count; i++) {
    const code = body.u8();
    const length = body.u16();
    const r = body.sub(length);
    const type = CODE_TO_TYPE.get(code);
    if (type === undefined) {
      // A newer peer's message kind: skip it by its length, keep the rest.
      unknownTypes++;
      continue;
    }
    messages.push(readBody(type, r));
    if (r.remaining !== 0) throw new WireFormatError('trailing-bytes', type);
  }
  if (body.remaining !== 0) throw new WireFormatError('trailing-bytes');
  return { messages, unknownTypes };
}

/** The binding under a seal: refuse a datagram sealed for another address, out of time, or seen before. */
function checkBinding(opened: ByteReader, nonce: Uint8Array, checks: OpenChecks): DropReason | undefined {
  const sealedAt = opened.u53();
  const to = readAddress(opened);
  if (!checks.isLocalAddress(to)) return 'misdirected';
  return checks.replay.check(sealedAt, nonce, checks.now);
}

/**
 * Decode one datagram. Never throws on input: malformed input yields
 * `{ ok: false, reason }`. With a keyring, `checks` is required.
 */
export function decodeDatagram(
  bytes: Uint8Array,
  keyring?: Keyring,
  maxBytes: number = WIRE_LIMITS.datagramMaxBytes,
  checks?: OpenChecks,
): DecodeResult {
  if (keyring && !checks) throw new Error('opening sealed datagrams needs the replay checks');
  try {
    if (bytes.length < ENVELOPE_OVERHEAD) return { ok: false, reason: 'too-short' };
    if (bytes.length > maxBytes) return { ok: false, reason: 'too-long' };
    if (bytes[0] !== WIRE_MAGIC) return { ok: false, reason: 'bad-magic' };
    if (bytes[1] !== WIRE_VERSION) return { ok: false, reason: 'bad-version' };
    const flags = bytes[2]!;
    if ((flags & ~(FLAG_ENCRYPTED | FLAG_BOUND)) !== 0 || flags === FLAG_BOUND) {
      return { ok: false, reason: 'bad-flags' };
    }
    const encrypted = (flags & FLAG_ENCRYPTED) !== 0;
    if (!keyring || !checks) {
      if (encrypted) return { ok: false, reason: 'encrypted-without-key' };
      return { ok: true, ...decodeMessages(new ByteReader(bytes.subarray(HEADER_BYTES))) };
    }
    if (!encrypted) return { ok: false, reason: 'unencrypted' };
    // A sealed body without a binding (an older peer's) could be replayed at will.
    if ((flags & FLAG_BOUND) === 0) return { ok: false, reason: 'unbound' };
    const opened = keyring.open(bytes.subarray(0, HEADER_BYTES), bytes.subarray(HEADER_BYTES));
    if (!opened) return { ok: false, reason: 'decrypt-failed' };
    const body = new ByteReader(opened);
    const refused = checkBinding(
      body,
      bytes.subarray(HEADER_BYTES, HEADER_BYTES + keyring.nonceBytes),
      checks,
    );
    if (refused) return { ok: false, reason: refused };
    return { ok: true, ...decodeMessages(body) };
  } catch (error) {
    if (error instanceof WireFormatError) return { ok: false, reason: error.reason as DropReason };
    return { ok: false, reason: 'bad-field' };
  }
}

// ---- addresses ------------------------------------------------------------

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3}):(\d{1,5})$/;

export function parseAddress(address: string): { ip: Uint8Array; port: number } | undefined {
  const match = IPV4.exec(address);
  if (!match) return undefined;
  const octets = match.slice(1, 5).map(Number);
  const port = Number(match[5]);
  if (octets.some((o) => o > 255) || port < 1 || port > 65535) return undefined;
  return { ip: Uint8Array.from(octets), port };
}
