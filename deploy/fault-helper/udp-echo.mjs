// A UDP echo pair that measures a link from outside the system under test:
//   node udp-echo.mjs serve [PORT]                     echoes every datagram back
//   node udp-echo.mjs measure HOST [PORT] [COUNT] [INTERVAL_MS]
//   node udp-echo.mjs listen PORT MS          counts datagrams for MS ms: {"received":N}
//   node udp-echo.mjs send HOST PORT COUNT    sends COUNT datagrams, 10 ms apart: {"sent":N}
// `measure` sends COUNT numbered datagrams whose bytes follow from their number,
// then prints one JSON line: round-trip times of the first good reply to each,
// and the shares of datagrams lost, answered more than once, and answered
// with bytes that differ from what was sent (corrupted on the way).
import dgram from 'node:dgram';

const SIZE = 64;
const [mode, host, portText, countText, intervalText] = process.argv.slice(2);

function payload(seq) {
  const bytes = Buffer.alloc(SIZE);
  bytes.writeUInt32BE(seq, 0);
  for (let i = 4; i < SIZE; i++) bytes[i] = (seq * 31 + i * 7) & 0xff;
  return bytes;
}

if (mode === 'serve') {
  const socket = dgram.createSocket('udp4');
  socket.on('message', (message, from) => socket.send(message, from.port, from.address));
  socket.bind(Number(host ?? 7000));
} else if (mode === 'measure') {
  const port = Number(portText ?? 7000);
  const count = Number(countText ?? 500);
  const intervalMs = Number(intervalText ?? 10);
  const socket = dgram.createSocket('udp4');
  const sentAt = new Map();
  const replies = new Map();
  const rtts = [];
  let corrupted = 0;
  socket.on('message', (message) => {
    const seq = message.length === SIZE ? message.readUInt32BE(0) : -1;
    if (!sentAt.has(seq) || !message.equals(payload(seq))) {
      corrupted++;
      return;
    }
    const n = (replies.get(seq) ?? 0) + 1;
    replies.set(seq, n);
    if (n === 1) rtts.push(performance.now() - sentAt.get(seq));
  });
  socket.bind(0, () => {
    let seq = 0;
    const timer = setInterval(() => {
      sentAt.set(seq, performance.now());
      socket.send(payload(seq), port, host);
      seq++;
      if (seq === count) {
        clearInterval(timer);
        // Late replies (delay + jitter) still count.
        setTimeout(report, 2000);
      }
    }, intervalMs);
  });
  const report = () => {
    rtts.sort((a, b) => a - b);
    const at = (q) => rtts[Math.min(rtts.length - 1, Math.floor(q * rtts.length))] ?? null;
    const received = replies.size;
    const duplicated = [...replies.values()].filter((n) => n > 1).length;
    const lostSeqs = [];
    for (let s = 0; s < count; s++) if (!replies.has(s)) lostSeqs.push(s);
    // Lengths of runs of consecutive lost datagrams: bursty loss makes long runs.
    const runs = [];
    for (const [i, s] of lostSeqs.entries()) {
      if (i > 0 && lostSeqs[i - 1] === s - 1) runs[runs.length - 1]++;
      else runs.push(1);
    }
    process.stdout.write(
      `${JSON.stringify({
        sent: count,
        received,
        rttMs: { p10: at(0.1), p50: at(0.5), p90: at(0.9) },
        missing: (count - received) / count,
        duplicated: duplicated / count,
        corrupted: corrupted / count,
        meanLossRun: runs.length === 0 ? 0 : lostSeqs.length / runs.length,
      })}\n`,
    );
    socket.close();
  };
} else if (mode === 'listen') {
  // One direction at a time: a one-way cut shows here and nowhere in a round trip.
  const socket = dgram.createSocket('udp4');
  let received = 0;
  socket.on('message', () => received++);
  socket.bind(Number(host), () =>
    setTimeout(() => {
      process.stdout.write(`${JSON.stringify({ received })}\n`);
      socket.close();
    }, Number(portText)),
  );
} else if (mode === 'send') {
  const socket = dgram.createSocket('udp4');
  let seq = 0;
  const timer = setInterval(() => {
    socket.send(payload(seq), Number(portText), host);
    if (++seq === Number(countText)) {
      clearInterval(timer);
      setTimeout(() => {
        process.stdout.write(`${JSON.stringify({ sent: seq })}\n`);
        socket.close();
      }, 100);
    }
  }, 10);
} else {
  process.stderr.write(
    'usage: udp-echo.mjs serve [PORT] | measure HOST [PORT] [COUNT] [INTERVAL_MS] | listen PORT MS | send HOST PORT COUNT\n',
  );
  process.exitCode = 2;
}
