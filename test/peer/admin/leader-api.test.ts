// The leader API over real HTTP on loopback, against a leadership view the
// test changes by hand: /v1/leader, /v1/token (409 unless acting), and the
// SSE watch stream (current state first, each change, renewals on request,
// and a reconnecting client starting from the current state again).
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { type StartedAdminServer, startAdminServer } from '../../../src/peer/admin/admin-server.ts';
import { leaderApiRoutes } from '../../../src/peer/admin/leader-api.ts';
import { adminHttpLimits, PEER_DEFAULTS } from '../../../src/peer/config.ts';
import { LeaderWatch } from '../../../src/peer/leadership/leader-watch.ts';
import { type LeadershipView, NO_LEADERSHIP } from '../../../src/peer/leadership/leadership-view.ts';
import { systemClock } from '../../../src/time/clock.ts';

class FakeLeadership {
  current: LeadershipView = NO_LEADERSHIP;
  released = { count: 0, reason: null as string | null };
  view = () => this.current;
  releases = () => this.released;
  set(epoch: number, seq: number, leader: string, acting = false) {
    this.current = {
      leader: { name: leader, key: `key-${leader}` },
      epoch,
      seq,
      leaseEnd: Date.now() + 2000,
      acting,
      token: acting ? `cert-${epoch}-${seq}~attestation` : null,
    };
  }
}

interface SseEvent {
  event: string;
  id?: string;
  data: Record<string, unknown>;
}

/** An SSE client on fetch: events as they arrive, one at a time. */
async function watch(url: string) {
  const controller = new AbortController();
  const response = await fetch(url, { signal: controller.signal });
  assert.equal(response.headers.get('content-type'), 'text/event-stream');
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  const queue: SseEvent[] = [];
  async function next(timeoutMs = 2000): Promise<SseEvent> {
    const deadline = Date.now() + timeoutMs;
    while (queue.length === 0) {
      const blocks = buffer.split('\n\n');
      buffer = blocks.pop()!;
      for (const block of blocks) {
        const fields: Record<string, string> = Object.fromEntries(
          block
            .split('\n')
            .filter((l) => !l.startsWith(':') && l.includes(': '))
            .map((l) => [l.slice(0, l.indexOf(': ')), l.slice(l.indexOf(': ') + 2)]),
        );
        if (fields.event && fields.data) {
          queue.push({ event: fields.event, id: fields.id, data: JSON.parse(fields.data) });
        }
      }
      if (queue.length > 0) break;
      if (Date.now() > deadline) throw new Error('no event in time');
      const chunk = await Promise.race([
        reader.read(),
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no event in time')), timeoutMs)),
      ]);
      if (chunk.done) throw new Error('stream ended');
      buffer += chunk.value;
    }
    return queue.shift()!;
  }
  return { next, close: () => controller.abort() };
}

describe('leader API', () => {
  const leadership = new FakeLeadership();
  let watcher: LeaderWatch;
  let server: StartedAdminServer;
  let base: string;
  before(async () => {
    watcher = new LeaderWatch({ source: leadership, clock: systemClock, pollMs: 10 });
    watcher.start();
    server = await startAdminServer({
      host: '127.0.0.1',
      port: 0,
      status: () => ({}),
      metrics: { contentType: 'text/plain', render: async () => '' },
      readiness: [],
      routes: leaderApiRoutes({ source: leadership, watch: watcher }),
      limits: adminHttpLimits(PEER_DEFAULTS),
    });
    base = `http://127.0.0.1:${server.port}`;
  });
  beforeEach(() => {
    leadership.current = NO_LEADERSHIP;
    watcher.poke();
  });
  after(async () => {
    watcher.stop();
    await server.close();
  });

  it('GET /v1/leader answers the leader, epoch, seq, lease end, acting, and the token only while acting', async () => {
    leadership.set(3, 2, 'peer-b');
    const follower = (await (await fetch(`${base}/v1/leader`)).json()) as {
      lease_end: unknown;
      lease_remaining_ms: number;
    };
    assert.deepEqual(
      {
        ...follower,
        lease_end: typeof follower.lease_end,
        lease_remaining_ms: follower.lease_remaining_ms > 0,
      },
      {
        leader: { name: 'peer-b', key: 'key-peer-b' },
        epoch: 3,
        seq: 2,
        lease_end: 'number',
        lease_remaining_ms: true,
        acting: false,
        token: null,
      },
    );
    leadership.set(3, 3, 'peer-b', true);
    const leader = (await (await fetch(`${base}/v1/leader`)).json()) as Record<string, unknown>;
    assert.equal(leader.acting, true);
    assert.equal(leader.token, 'cert-3-3~attestation');
  });

  it('GET /v1/token answers the token while acting as leader, else 409 with the reason', async () => {
    const none = await fetch(`${base}/v1/token`);
    assert.equal(none.status, 409);
    assert.deepEqual(await none.json(), {
      error: {
        code: 'E_NOT_ACTING_LEADER',
        message: 'not acting as leader: there is no leader with a live lease',
      },
    });
    leadership.set(5, 0, 'peer-c');
    const follower = await fetch(`${base}/v1/token`);
    assert.equal(follower.status, 409);
    const refusal = (await follower.json()) as { error: { message: string } };
    assert.match(refusal.error.message, /the leader is peer-c \(epoch 5\)/);
    leadership.set(5, 1, 'peer-c', true);
    const leader = await fetch(`${base}/v1/token`);
    assert.equal(leader.status, 200);
    assert.deepEqual(await leader.json(), {
      token: 'cert-5-1~attestation',
      epoch: 5,
      seq: 1,
      lease_end: leadership.current.leaseEnd,
    });
  });

  it('the watch stream starts with the current state, then sends elected, released with reason, no-leader', async () => {
    leadership.set(1, 0, 'peer-a');
    const stream = await watch(`${base}/v1/leader/watch`);
    try {
      assert.deepEqual(await stream.next(), {
        event: 'elected',
        id: '1.0',
        data: { leader: 'peer-a', epoch: 1, seq: 0, lease_end: leadership.current.leaseEnd, acting: false },
      });
      leadership.set(1, 1, 'peer-a'); // a renewal: not asked for
      leadership.set(1, 2, 'peer-a', true);
      let event = await stream.next();
      assert.deepEqual([event.event, event.data.seq, event.data.acting], ['elected', 2, true]);
      leadership.released = { count: 1, reason: 'superseded' };
      leadership.set(2, 0, 'peer-b');
      event = await stream.next();
      assert.deepEqual([event.event, event.data.reason], ['released', 'superseded']);
      event = await stream.next();
      assert.deepEqual([event.event, event.data.leader, event.data.epoch], ['elected', 'peer-b', 2]);
      leadership.current = { ...leadership.current, leaseEnd: Date.now() - 1 };
      event = await stream.next();
      assert.deepEqual([event.event, event.data.reason], ['no-leader', 'lease ended']);
    } finally {
      stream.close();
    }
  });

  it('sends renewals only to a watcher that asks with ?renewals=1', async () => {
    leadership.set(4, 0, 'peer-a');
    const plain = await watch(`${base}/v1/leader/watch`);
    const withRenewals = await watch(`${base}/v1/leader/watch?renewals=1`);
    try {
      assert.equal((await plain.next()).event, 'elected');
      assert.equal((await withRenewals.next()).event, 'elected');
      leadership.set(4, 1, 'peer-a');
      const renewed = await withRenewals.next();
      assert.deepEqual([renewed.event, renewed.id], ['renewed', '4.1']);
      leadership.set(5, 0, 'peer-b');
      assert.deepEqual((await plain.next()).id, '5.0', 'the plain watcher skipped 4.1');
      assert.deepEqual((await withRenewals.next()).id, '5.0');
    } finally {
      plain.close();
      withRenewals.close();
    }
  });

  it('a reconnecting watcher gets the current state first, not what it missed', async () => {
    leadership.set(6, 0, 'peer-a');
    const first = await watch(`${base}/v1/leader/watch`);
    assert.equal((await first.next()).id, '6.0');
    first.close();
    leadership.set(7, 0, 'peer-b');
    leadership.set(8, 0, 'peer-c');
    const again = await watch(`${base}/v1/leader/watch`);
    try {
      const event = await again.next();
      assert.deepEqual([event.event, event.id, event.data.leader], ['elected', '8.0', 'peer-c']);
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(watcher.watchers, 1, 'the closed stream unsubscribed');
    } finally {
      again.close();
    }
  });
});
