// deploy/create-secrets.sh hands the PKI to a swarm or a Kubernetes namespace.
// Run here against stand-in `docker` and `kubectl` commands that record their
// arguments: the objects it creates must be the ones the stack and the manifests
// mount, holding the files the enclave and the peers read.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { JOIN_SECRET_FILE } from '../../src/enclave/join-secret.ts';
import { PKI_FILES } from '../../src/enclave/pki.ts';
import { kubernetesObject, REPO, stackFile, type Yaml } from './support/manifests.ts';

const SCRIPT = join(REPO, 'deploy', 'create-secrets.sh');
/** What the enclave loads (the root's key stays off the platform), and the join secret that admits members. */
const ENCLAVE_FILES = [
  PKI_FILES.rootCert,
  PKI_FILES.attestationCert,
  PKI_FILES.attestationKey,
  JOIN_SECRET_FILE,
];

let dir: string;
let pki: string;
let calls: string;

function run(...args: string[]) {
  writeFileSync(calls, '');
  const result = spawnSync('bash', [SCRIPT, ...args], {
    encoding: 'utf8',
    env: { ...process.env, PATH: `${join(dir, 'bin')}:${process.env.PATH}` },
  });
  const lines = readFileSync(calls, 'utf8').trim().split('\n').filter(Boolean);
  return { ...result, calls: lines.map((line) => line.split(' ')) };
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'create-secrets-'));
  pki = join(dir, 'pki');
  calls = join(dir, 'calls');
  spawnSync('mkdir', ['-p', pki, join(dir, 'bin')]);
  for (const file of [...Object.values(PKI_FILES), JOIN_SECRET_FILE])
    writeFileSync(join(pki, file), `${file}\n`);
  for (const tool of ['docker', 'kubectl']) {
    const path = join(dir, 'bin', tool);
    writeFileSync(path, `#!/bin/sh\necho "${tool} $*" >> '${calls}'\n`);
    chmodSync(path, 0o755);
  }
});

after(() => rmSync(dir, { recursive: true, force: true }));

describe('create-secrets.sh swarm', () => {
  it("creates exactly the secrets and configs stack.yml names, from the enclave's PKI files", () => {
    const result = run('swarm', '--pki', pki);
    assert.equal(result.status, 0, result.stderr);
    const created = (kind: string) =>
      result.calls.filter((c) => c[1] === kind && c[2] === 'create').map((c) => [c.at(-2), c.at(-1)]);
    const stack = stackFile();
    assert.deepEqual(
      created('secret')
        .map(([name]) => name)
        .sort(),
      Object.keys(stack.secrets).sort(),
    );
    assert.deepEqual(
      created('config')
        .map(([name]) => name)
        .sort(),
      Object.keys(stack.configs).sort(),
    );
    // Each secret the enclave mounts holds the file its target names.
    const files = new Map(created('secret').map(([name, path]) => [name, path?.split('/').pop()]));
    for (const secret of stack.services.enclave.secrets as Yaml[]) {
      assert.equal(files.get(secret.source), secret.target, `${secret.source} holds ${secret.target}`);
    }
    assert.deepEqual(
      (stack.services.enclave.secrets as Yaml[]).map((s) => s.target).sort(),
      [...ENCLAVE_FILES].sort(),
    );
  });
});

describe('create-secrets.sh kubernetes', () => {
  it('creates the Secret the enclave mounts and the ConfigMap the peers pin, in the given namespace', () => {
    const result = run('kubernetes', '--pki', pki, '--namespace', 'ee');
    assert.equal(result.status, 0, result.stderr);
    const secret = result.calls.find((c) => c.includes('secret'));
    const configMap = result.calls.find((c) => c.includes('configmap'));
    assert.ok(secret && configMap, `kubectl calls: ${JSON.stringify(result.calls)}`);
    assert.deepEqual(secret.slice(1, 3), ['--namespace', 'ee']);
    const keys = (call: string[]) =>
      call
        .filter((a) => a.startsWith('--from-file='))
        .map((a) => a.slice('--from-file='.length).split('=')[0]);

    const enclavePod = kubernetesObject('Deployment', 'enclave-elect-enclave').spec.template.spec;
    const pkiVolume = enclavePod.volumes.find((v: Yaml) => v.secret);
    assert.equal(secret[secret.indexOf('generic') + 1], pkiVolume.secret.secretName);
    assert.deepEqual(keys(secret).sort(), [...ENCLAVE_FILES].sort());

    const peerPod = kubernetesObject('Deployment', 'enclave-elect-peer').spec.template.spec;
    const trust = peerPod.volumes.find((v: Yaml) => v.configMap);
    assert.equal(configMap[configMap.indexOf('configmap') + 1], trust.configMap.name);
    const pinned = peerPod.containers[0].args
      .find((a: string) => a.startsWith('--pki-root='))
      .split('/')
      .pop();
    assert.deepEqual(keys(configMap), [pinned]);

    // The join secret, again, in the Secret only the peers mount, at the path their flag names.
    const admission = result.calls.filter((c) => c.includes('secret'))[1];
    const admissionVolume = peerPod.volumes.find((v: Yaml) => v.secret);
    assert.ok(admission, `kubectl calls: ${JSON.stringify(result.calls)}`);
    assert.equal(admission[admission.indexOf('generic') + 1], admissionVolume.secret.secretName);
    assert.deepEqual(keys(admission), [JOIN_SECRET_FILE]);
    const joinFlag = peerPod.containers[0].args.find((a: string) => a.startsWith('--join-secret='));
    assert.equal(joinFlag.split('/').pop(), JOIN_SECRET_FILE);
  });
});

describe('create-secrets.sh refusals', () => {
  it('exits 2 without a target, naming the two', () => {
    const result = run();
    assert.equal(result.status, 2);
    assert.match(result.stderr, /swarm or kubernetes/);
  });

  it('exits 1 naming a missing PKI file, before creating anything', () => {
    rmSync(join(pki, PKI_FILES.attestationKey));
    try {
      for (const target of ['swarm', 'kubernetes']) {
        const result = run(target, '--pki', pki);
        assert.equal(result.status, 1);
        assert.match(
          result.stderr,
          /attestation\.key\.pem is missing; run 'enclave-elect pki init --out DIR' first/,
        );
        assert.deepEqual(result.calls, [], `${target}: nothing created`);
      }
    } finally {
      writeFileSync(join(pki, PKI_FILES.attestationKey), 'key\n');
    }
  });
});
