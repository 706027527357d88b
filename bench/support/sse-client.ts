// A minimal Server-Sent Events client on fetch, for benchmarks and tests that
// watch a peer's /v1/leader/watch: every event with the wall time it arrived.
export interface ArrivedEvent {
  event: string;
  id: string | undefined;
  data: Record<string, unknown>;
  /** Date.now() when the event's last line was read. */
  arrivedAt: number;
}

export interface SseStream {
  readonly events: ArrivedEvent[];
  close(): void;
}

export async function openSse(
  url: string,
  onEvent: (event: ArrivedEvent) => void = () => {},
): Promise<SseStream> {
  const controller = new AbortController();
  const response = await fetch(url, { signal: controller.signal });
  if (!response.ok || !response.body) throw new Error(`${url}: HTTP ${response.status}`);
  const events: ArrivedEvent[] = [];
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  void (async () => {
    let buffer = '';
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        buffer += value;
        const blocks = buffer.split('\n\n');
        buffer = blocks.pop()!;
        const arrivedAt = Date.now();
        for (const block of blocks) {
          const fields: Record<string, string> = {};
          for (const line of block.split('\n')) {
            const colon = line.indexOf(': ');
            if (colon > 0) fields[line.slice(0, colon)] = line.slice(colon + 2);
          }
          if (!fields.event || !fields.data) continue;
          const event = { event: fields.event, id: fields.id, data: JSON.parse(fields.data), arrivedAt };
          events.push(event);
          onEvent(event);
        }
      }
    } catch {
      // aborted by close(), or the peer went away
    }
  })();
  return { events, close: () => controller.abort() };
}
