// Runs inside a container of the project image (copied to
// /app/integration-tests/support/, so the relative imports reach /app/src):
// sends a peer COUNT datagrams that the gossip codec must refuse — random
// bytes, and valid datagrams mutated (bytes flipped, cut, extended, header
// fields changed, oversized) — each checked with the codec before sending, so
// the expected drop reason of every one is known. Paced by the peer's own
// /status: after each batch it waits until the peer has counted the batch, so
// a loaded peer is measured, not the kernel's socket buffer.
//   node fuzz-datagrams.ts HOST GOSSIP_PORT ADMIN_PORT COUNT SEED
// Prints one JSON document: { sent, byReason, uncounted, elapsedMs }.
import { createSocket } from 'node:dgram';
import { decodeDatagram, encodeDatagram } from '../../src/protocol/gossip-codec.ts';
import type { GossipMessage } from '../../src/protocol/gossip-messages.ts';
import { seededRandom } from '../../src/random/seeded-random.ts';

const [host, gossipPort, adminPort, countArg, seedArg] = process.argv.slice(2);
if (!host || !gossipPort || !adminPort || !countArg || !seedArg) {
  throw new Error('usage: fuzz-datagrams.ts HOST GOSSIP_PORT ADMIN_PORT COUNT SEED');
}
const COUNT = Number(countArg);
/** The peer's default --max-datagram-bytes. */
const MAX_BYTES = 1400;
const BATCH = 50;

const random = seededRandom(Number(seedArg));
const below = (n: number) => Math.floor(random.next() * n);
const randomBytes = (n: number) => Uint8Array.from({ length: n }, () => below(256));
const pick = <T>(items: readonly T[]): T => items[below(items.length)]!;

const name = () => pick(['peer-1', 'peer-2', 'fuzz', 'a'.repeat(63), 'x.y_z-0']);
const address = () => `10.${below(256)}.${below(256)}.${1 + below(254)}:${1 + below(65535)}`;
const record = () => ({
  name: name(),
  incarnation: below(2 ** 31),
  address: address(),
  publicKey: randomBytes(32),
});

/** Valid messages to start mutations from. */
function validMessage(): GossipMessage {
  switch (below(8)) {
    case 0:
      return { type: 'ping', seq: below(2 ** 32), target: name(), source: name() };
    case 1:
      return {
        type: 'indirect-ping',
        seq: below(2 ** 32),
        target: name(),
        targetAddress: address(),
        source: name(),
      };
    case 2:
      return { type: 'ack', seq: below(2 ** 32) };
    case 3:
      return { type: 'alive', member: record() };
    case 4:
      return { type: 'suspect', name: name(), incarnation: below(2 ** 31), from: name() };
    case 5:
      return { type: 'dead', name: name(), incarnation: below(2 ** 31), from: name() };
    case 6:
      return {
        type: 'push-pull',
        syncId: below(2 ** 32),
        join: random.next() < 0.5,
        response: random.next() < 0.5,
        part: 0,
        parts: 1,
        entries: Array.from({ length: below(5) }, () => ({ ...record(), state: 'alive' as const })),
      };
    default:
      return { type: 'broadcast', topic: 'leader', key: 'epoch', payload: randomBytes(1 + below(600)) };
  }
}

function mutate(bytes: Uint8Array): Uint8Array {
  const out = Uint8Array.from(bytes);
  switch (below(7)) {
    case 0: // flip bytes
      for (let i = 1 + below(4); i > 0; i--) out[below(out.length)] = below(256);
      return out;
    case 1: // cut
      return out.subarray(0, below(out.length));
    case 2: // extend
      return Uint8Array.from([...out, ...randomBytes(1 + below(32))]);
    case 3: // header: version, flags, count
      out[1 + below(3)] = below(256);
      return out;
    case 4: // message length field
      if (out.length > 6) new DataView(out.buffer).setUint16(5, below(65536));
      return out;
    case 5: // oversized
      return Uint8Array.from([...out, ...randomBytes(MAX_BYTES + 1 - out.length + below(100))]);
    default: // random body behind a valid header
      return Uint8Array.from([out[0]!, out[1]!, out[2]!, ...randomBytes(1 + below(300))]);
  }
}

function candidate(): Uint8Array {
  if (random.next() < 0.3) return randomBytes(1 + below(MAX_BYTES + 50));
  const messages = Array.from({ length: 1 + below(3) }, validMessage);
  return mutate(encodeDatagram(messages));
}

/** COUNT datagrams the codec refuses, with the reason each will be counted under. */
const datagrams: { bytes: Uint8Array; reason: string }[] = [];
while (datagrams.length < COUNT) {
  const bytes = candidate();
  const decoded = decodeDatagram(bytes, undefined, MAX_BYTES);
  if (!decoded.ok) datagrams.push({ bytes, reason: decoded.reason });
}

async function droppedTotal(): Promise<number> {
  const response = await fetch(`http://${host}:${adminPort}/status`, { signal: AbortSignal.timeout(2000) });
  const status = (await response.json()) as { counters: { dropped: Record<string, number> } };
  return Object.values(status.counters.dropped).reduce((a, b) => a + b, 0);
}

const started = Date.now();
const baseline = await droppedTotal();
const socket = createSocket('udp4');
const send = (bytes: Uint8Array) =>
  new Promise<void>((resolve, reject) =>
    socket.send(bytes, Number(gossipPort), host, (error) => (error ? reject(error) : resolve())),
  );
let counted = 0;
for (let i = 0; i < datagrams.length; i += BATCH) {
  const batch = datagrams.slice(i, i + BATCH);
  for (const d of batch) await send(d.bytes);
  const target = i + batch.length;
  const deadline = Date.now() + 5000;
  do {
    counted = (await droppedTotal()) - baseline;
    if (counted >= target) break;
    await new Promise((resolve) => setTimeout(resolve, 5));
  } while (Date.now() < deadline);
}
socket.close();
const byReason: Record<string, number> = {};
for (const d of datagrams) byReason[d.reason] = (byReason[d.reason] ?? 0) + 1;
process.stdout.write(
  `${JSON.stringify({ sent: datagrams.length, byReason, uncounted: datagrams.length - counted, elapsedMs: Date.now() - started })}\n`,
);
