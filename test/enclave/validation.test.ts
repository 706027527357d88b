import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MAX_BODY_BYTES, MAX_MEMBERS } from '../../src/enclave/requests.ts';
import {
  CLUSTER,
  entries,
  makeClient,
  makePeers,
  makePki,
  postJson,
  removeDir,
  startTestEnclave,
  type TestEnclave,
  type TestPki,
} from './fixture.ts';

const peers = makePeers(3);
const members = entries(peers);
const key = members[0]!.key;

async function send(url: string, init: RequestInit): Promise<{ status: number; code: string | undefined }> {
  const response = await fetch(url, init);
  const text = await response.text();
  let code: string | undefined;
  try {
    code = (JSON.parse(text) as { error?: { code?: string } }).error?.code;
  } catch {
    code = undefined;
  }
  return { status: response.status, code };
}

describe('request validation', () => {
  let pki: TestPki;
  let enclave: TestEnclave;

  before(async () => {
    pki = makePki();
    enclave = await startTestEnclave({ pki });
  });
  after(async () => {
    await enclave.close();
    removeDir(enclave.stateDir);
    removeDir(pki.dir);
  });

  const electCases: [string, unknown, number, string][] = [
    ['invalid JSON', '{"cluster_id":', 400, 'E_BAD_JSON'],
    ['a JSON array', '[]', 400, 'E_BAD_REQUEST'],
    ['a wrong type', { cluster_id: CLUSTER, members, known_epoch: '3' }, 400, 'E_BAD_REQUEST'],
    ['a negative epoch', { cluster_id: CLUSTER, members, known_epoch: -1 }, 400, 'E_BAD_REQUEST'],
    ['a float epoch', { cluster_id: CLUSTER, members, known_epoch: 1.5 }, 400, 'E_BAD_REQUEST'],
    ['an epoch near 2^53', { cluster_id: CLUSTER, members, known_epoch: 2 ** 53 - 2 }, 400, 'E_BAD_REQUEST'],
    ['an unknown field', { cluster_id: CLUSTER, members, leader: 'me' }, 400, 'E_UNKNOWN_FIELD'],
    [
      'an unknown member field',
      { cluster_id: CLUSTER, members: [{ ...members[0], admin: true }] },
      400,
      'E_UNKNOWN_FIELD',
    ],
    ['no members', { cluster_id: CLUSTER, members: [] }, 400, 'E_BAD_REQUEST'],
    ['a missing cluster', { members }, 400, 'E_BAD_REQUEST'],
    ['a bad name', { cluster_id: CLUSTER, members: [{ name: '../x', key }] }, 400, 'E_BAD_REQUEST'],
    ['a bad key', { cluster_id: CLUSTER, members: [{ name: 'a', key: 'AAAA' }] }, 400, 'E_BAD_REQUEST'],
    [
      'duplicate names',
      { cluster_id: CLUSTER, members: [members[0], members[0]] },
      400,
      'E_DUPLICATE_MEMBER',
    ],
    [
      `${MAX_MEMBERS + 1} members`,
      {
        cluster_id: CLUSTER,
        members: Array.from({ length: MAX_MEMBERS + 1 }, (_, i) => ({ name: `n${i}`, key })),
      },
      400,
      'E_TOO_MANY_MEMBERS',
    ],
    [
      '10k members',
      { cluster_id: CLUSTER, members: Array.from({ length: 10_000 }, (_, i) => ({ name: `n${i}`, key })) },
      413,
      'E_BODY_TOO_LARGE',
    ],
    ['another cluster', { cluster_id: 'elsewhere', members }, 409, 'E_CLUSTER_MISMATCH'],
  ];

  for (const [what, body, status, code] of electCases) {
    it(`refuses an elect with ${what} (${status} ${code}) and changes nothing`, async () => {
      const before = structuredClone(enclave.service.state);
      const reply = await postJson(`${enclave.url}/v1/elect`, body);
      assert.equal(reply.status, status);
      assert.equal(reply.body.error?.code, code);
      assert.equal(typeof reply.body.error?.message, 'string');
      assert.deepEqual(enclave.service.state, before);
    });
  }

  it('refuses a huge body without reading it all, and without a content-length', async () => {
    const huge = `{"cluster_id":"${'x'.repeat(MAX_BODY_BYTES + 10)}"}`;
    const declared = await send(`${enclave.url}/v1/elect`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: huge,
    });
    assert.deepEqual(declared, { status: 413, code: 'E_BODY_TOO_LARGE' });
    const stream = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(huge));
        controller.close();
      },
    });
    const chunked = await send(`${enclave.url}/v1/elect`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: stream,
      duplex: 'half',
    } as RequestInit);
    assert.deepEqual(chunked, { status: 413, code: 'E_BODY_TOO_LARGE' });
  });

  it('refuses wrong media types, methods, routes and nonces', async () => {
    const url = enclave.url;
    const cases: [string, RequestInit, number, string][] = [
      [
        '/v1/elect',
        { method: 'POST', body: '{}', headers: { 'content-type': 'text/plain' } },
        415,
        'E_UNSUPPORTED_MEDIA_TYPE',
      ],
      ['/v1/elect', { method: 'GET' }, 405, 'E_METHOD_NOT_ALLOWED'],
      ['/v1/attestation?nonce=00', { method: 'GET' }, 400, 'E_BAD_NONCE'],
      [`/v1/attestation?nonce=${'zz'.repeat(16)}`, { method: 'GET' }, 400, 'E_BAD_NONCE'],
      [
        '/v1/attestation',
        { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } },
        405,
        'E_METHOD_NOT_ALLOWED',
      ],
      ['/v2/elect', { method: 'GET' }, 404, 'E_NOT_FOUND'],
    ];
    for (const [path, init, status, code] of cases) {
      assert.deepEqual(await send(`${url}${path}`, init), { status, code }, path);
    }
  });

  it('refuses malformed renew and resign bodies', async () => {
    const base = { cluster_id: CLUSTER, epoch: 1, seq: 0, leader: 'peer-000', sig: 'A'.repeat(86) };
    const cases: [string, unknown, string][] = [
      ['/v1/renew', { ...base, extra: 1 }, 'E_UNKNOWN_FIELD'],
      ['/v1/renew', { ...base, sig: 'short' }, 'E_BAD_REQUEST'],
      ['/v1/renew', { ...base, epoch: 0 }, 'E_BAD_REQUEST'],
      ['/v1/resign', base, 'E_BAD_REQUEST'],
      ['/v1/resign', { ...base, members: 'all' }, 'E_BAD_REQUEST'],
    ];
    for (const [path, body, code] of cases) {
      const reply = await postJson(`${enclave.url}${path}`, body);
      assert.equal(reply.status, 400, `${path} ${code}`);
      assert.equal(reply.body.error?.code, code);
    }
  });

  it('stays up and serves a valid election after all of that', async () => {
    assert.equal(enclave.service.state.epoch, 0);
    assert.equal((await fetch(`${enclave.url}/healthz`)).status, 200);
    const client = makeClient(enclave, pki, enclave.service.checksum);
    const granted = await client.elect({ members });
    assert.equal(granted.claims.epoch, 1);
  });
});
