// Docker's multiplexed stream format (logs and exec of a container without a
// TTY): frames of an 8-byte header [stream, 0, 0, 0, size (u32 BE)] and a
// payload; stream 1 is stdout, 2 is stderr. Frames may arrive split across
// chunks, so the demuxer keeps what it has not consumed yet.

export type StreamName = 'stdout' | 'stderr';

export class FrameDemuxer {
  #pending: Buffer = Buffer.alloc(0);
  readonly #onFrame: (stream: StreamName, payload: Buffer) => void;

  constructor(onFrame: (stream: StreamName, payload: Buffer) => void) {
    this.#onFrame = onFrame;
  }

  push(chunk: Buffer): void {
    this.#pending = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    let offset = 0;
    while (offset + 8 <= this.#pending.length) {
      const size = this.#pending.readUInt32BE(offset + 4);
      if (offset + 8 + size > this.#pending.length) break;
      const stream: StreamName = this.#pending[offset] === 2 ? 'stderr' : 'stdout';
      this.#onFrame(stream, this.#pending.subarray(offset + 8, offset + 8 + size));
      offset += 8 + size;
    }
    this.#pending = this.#pending.subarray(offset);
  }
}

/** Split a whole multiplexed buffer into stdout and stderr text. */
export function demultiplex(raw: Buffer): { stdout: string; stderr: string } {
  const parts: Record<StreamName, Buffer[]> = { stdout: [], stderr: [] };
  new FrameDemuxer((stream, payload) => parts[stream].push(payload)).push(raw);
  return {
    stdout: Buffer.concat(parts.stdout).toString('utf8'),
    stderr: Buffer.concat(parts.stderr).toString('utf8'),
  };
}

/** Turns chunks of text into whole lines, holding back a partial last line. */
export class LineSplitter {
  #rest = '';
  readonly #onLine: (line: string) => void;

  constructor(onLine: (line: string) => void) {
    this.#onLine = onLine;
  }

  push(text: string): void {
    const lines = (this.#rest + text).split('\n');
    this.#rest = lines.pop() ?? '';
    for (const line of lines) this.#onLine(line.replace(/\r$/, ''));
  }

  flush(): void {
    if (this.#rest !== '') this.#onLine(this.#rest);
    this.#rest = '';
  }
}
