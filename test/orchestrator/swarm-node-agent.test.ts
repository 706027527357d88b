// The script a node job runs, executed for real against a fake engine on a
// unix socket: each step's engine calls, in order, and the one JSON document
// it prints (results so far and the error when a step fails).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { NODE_AGENT_SCRIPT, type NodeStep, parseAgentOutput } from '../../src/orchestrator/swarm-node-job.ts';
import { stdoutFrame } from './fake-swarm.ts';

function frame(stream: 1 | 2, text: string): Buffer {
  const out = stdoutFrame(text);
  out[0] = stream;
  return out;
}

describe('the node job agent', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ee-agent-'));
  const socket = join(dir, 'engine.sock');
  const calls: string[] = [];
  const bodies: unknown[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      calls.push(`${req.method} ${req.url}`);
      if (body) bodies.push(JSON.parse(body));
      const json = (status: number, value: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(value));
      };
      const url = req.url ?? '';
      if (url === '/containers/create') return json(201, { Id: 'h1' });
      if (url.startsWith('/containers/json')) {
        return json(200, [
          { Id: 'old', State: 'running', Labels: { 'io.enclave-elect.fault-target': 'c1' } },
        ]);
      }
      if (url === '/containers/h1/logs?stdout=1&stderr=1') {
        res.writeHead(200);
        return res.end(frame(2, 'net-fault: applied\nnet-fault: ready (shaping: none)\n'));
      }
      if (url === '/containers/c1/exec') return json(201, { Id: 'e1' });
      if (url === '/exec/e1/start') {
        res.writeHead(200);
        return res.end(Buffer.concat([frame(1, '["refused","timeout"]'), frame(2, 'warning\n')]));
      }
      if (url === '/exec/e1/json') return json(200, { ExitCode: 0 });
      if (url.startsWith('/images/')) return json(404, { message: 'No such image' });
      res.writeHead(204);
      res.end();
    });
  });

  before(() => new Promise<void>((resolve) => server.listen(socket, resolve)));
  after(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const runAgent = (steps: NodeStep[]) =>
    new Promise<{ code: number | null; stdout: string }>((resolve, reject) => {
      const child = spawn(process.execPath, ['-e', NODE_AGENT_SCRIPT, JSON.stringify(steps)], {
        env: { ENGINE_SOCKET: socket },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let stdout = '';
      child.stdout.on('data', (c: Buffer) => {
        stdout += c;
      });
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout }));
    });

  it('removes old helpers, starts a helper and waits for its ready line, and probes by exec', async () => {
    calls.length = 0;
    const { code, stdout } = await runAgent([
      { op: 'remove', labels: ['io.enclave-elect.role=fault-helper'] },
      { op: 'run', create: { Image: 'helper', Cmd: ['apply'] }, readyText: 'net-fault: ready' },
      { op: 'exec', container: 'c1', cmd: ['node', '-e', 'probe'] },
    ]);
    assert.equal(code, 0);
    const output = parseAgentOutput(stdout);
    assert.equal(output?.error, undefined);
    assert.deepEqual(output?.results[0]?.removed, [
      { id: 'old', labels: { 'io.enclave-elect.fault-target': 'c1' } },
    ]);
    assert.equal(output?.results[1]?.id, 'h1');
    assert.deepEqual(
      [output?.results[2]?.exitCode, output?.results[2]?.stdout, output?.results[2]?.stderr],
      [0, '["refused","timeout"]', 'warning\n'],
    );
    assert.deepEqual(calls, [
      `GET /containers/json?all=1&filters=${encodeURIComponent(JSON.stringify({ label: ['io.enclave-elect.role=fault-helper'] }))}`,
      'POST /containers/old/stop?t=5',
      'DELETE /containers/old?force=1',
      'POST /containers/create',
      'POST /containers/h1/start',
      'GET /containers/h1/logs?stdout=1&stderr=1',
      'POST /containers/c1/exec',
      'POST /exec/e1/start',
      'GET /exec/e1/json',
    ]);
    assert.ok(!calls.includes('DELETE /containers/h1?force=1'), 'a ready helper is left running');
  });

  it('stops at a step that fails, printing the results so far and the reason, and exits 1', async () => {
    const { code, stdout } = await runAgent([
      { op: 'call', method: 'POST', path: '/containers/c1/pause' },
      { op: 'image', name: 'helper:1', require: true },
      { op: 'call', method: 'POST', path: '/never' },
    ]);
    assert.equal(code, 1);
    const output = parseAgentOutput(stdout);
    assert.equal(output?.results.length, 1);
    assert.equal(output?.results[0]?.status, 204);
    assert.equal(output?.error, 'no image helper:1 on this node');
  });
});
