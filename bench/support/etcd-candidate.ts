// One etcd election candidate (etcd v3 JSON gateway, no client library): grant
// a lease with the given TTL, keep it alive every TTL/4, campaign, and print one
// JSON line {"elected": name, "t": ms} when it wins. Killed by the bench.
// Usage: node etcd-candidate.ts <endpoint> <election> <name> <ttlSeconds>
const [endpoint, election, name, ttl] = process.argv.slice(2) as [string, string, string, string];
const b64 = (text: string) => Buffer.from(text).toString('base64');

async function call(path: string, body: object): Promise<Record<string, unknown>> {
  const response = await fetch(`${endpoint}${path}`, { method: 'POST', body: JSON.stringify(body) });
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status} ${await response.text()}`);
  return (await response.json()) as Record<string, unknown>;
}

const lease = await call('/v3/lease/grant', { TTL: Number(ttl) });
const id = String(lease.ID);
setInterval(
  () => {
    call('/v3/lease/keepalive', { ID: id }).catch((error: unknown) => {
      process.stderr.write(`keepalive failed: ${(error as Error).message}\n`);
    });
  },
  Math.max(100, (Number(ttl) * 1000) / 4),
);
await call('/v3/election/campaign', { name: b64(election), lease: id, value: b64(name) });
process.stdout.write(`${JSON.stringify({ elected: name, t: Date.now() })}\n`);
