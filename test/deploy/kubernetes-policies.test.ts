// The policies deploy/kubernetes must carry, read from the manifests: the
// gossip-ring Service, probes, a majority-keeping PodDisruptionBudget, the
// enclave as one replica on a claim, NetworkPolicies, and hardened pods.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { kubernetesObject, kubernetesObjects, type Yaml } from './support/manifests.ts';

const PEER = { 'app.kubernetes.io/name': 'enclave-elect', 'app.kubernetes.io/component': 'peer' };
const ENCLAVE = { 'app.kubernetes.io/name': 'enclave-elect', 'app.kubernetes.io/component': 'enclave' };

const peer = () => kubernetesObject('Deployment', 'enclave-elect-peer');
const enclave = () => kubernetesObject('Deployment', 'enclave-elect-enclave');

/** minAvailable of a PDB, as a number of pods out of `replicas` (percentages round up, as Kubernetes does). */
function minAvailable(value: number | string, replicas: number): number {
  if (typeof value === 'number') return value;
  const percent = Number(value.replace(/%$/, ''));
  return Math.ceil((percent * replicas) / 100);
}

describe('Kubernetes manifests: gossip ring', () => {
  it('seeds through a headless Service that lists not-ready peers, with UDP and TCP ports', () => {
    const service = kubernetesObject('Service', 'enclave-elect-peer-gossip');
    assert.equal(service.spec.clusterIP, 'None');
    assert.equal(service.spec.publishNotReadyAddresses, true);
    assert.deepEqual(service.spec.selector, PEER);
    const protocols = new Set(service.spec.ports.map((p: Yaml) => p.protocol));
    assert.deepEqual([...protocols].sort(), ['TCP', 'UDP']);
    const join = peer().spec.template.spec.containers[0].args.find((a: string) => a.startsWith('--join='));
    assert.equal(join, `--join=${service.metadata.name}`, 'peers join through that Service');
  });

  it('marks peers ready on /readyz and live on /healthz', () => {
    const container = peer().spec.template.spec.containers[0];
    assert.equal(container.readinessProbe.httpGet.path, '/readyz');
    assert.equal(container.livenessProbe.httpGet.path, '/healthz');
  });

  it('keeps a majority of the peers through voluntary disruptions', () => {
    const pdb = kubernetesObject('PodDisruptionBudget', 'enclave-elect-peer');
    assert.deepEqual(pdb.spec.selector.matchLabels, PEER);
    for (const replicas of [3, 4, 5, 7, 50]) {
      const kept = minAvailable(pdb.spec.minAvailable, replicas);
      assert.ok(kept > replicas / 2, `${kept} of ${replicas} is a majority`);
    }
    const rollout = peer().spec.strategy.rollingUpdate;
    assert.equal(rollout.maxUnavailable, 1, 'a rollout takes one peer at a time');
  });
});

describe('Kubernetes manifests: the enclave', () => {
  it('runs one replica, replaced by stopping the old one first, with its state on a claim', () => {
    const deployment = enclave();
    assert.equal(deployment.spec.replicas, 1);
    assert.equal(deployment.spec.strategy.type, 'Recreate');
    const state = deployment.spec.template.spec.volumes.find((v: Yaml) => v.persistentVolumeClaim);
    const claim = kubernetesObject('PersistentVolumeClaim', state.persistentVolumeClaim.claimName);
    assert.deepEqual(claim.spec.accessModes, ['ReadWriteOnce']);
    const mount = deployment.spec.template.spec.containers[0].volumeMounts.find(
      (m: Yaml) => m.name === state.name,
    );
    const args: string[] = deployment.spec.template.spec.containers[0].args;
    assert.equal(args[args.indexOf('--state-dir') + 1], mount.mountPath);
  });

  it('keeps the attestation keys in a Secret only the enclave mounts, and admission in one only peers mount', () => {
    const secretsOf = (d: Yaml) =>
      d.spec.template.spec.volumes.filter((v: Yaml) => v.secret).map((v: Yaml) => v.secret.secretName);
    assert.deepEqual(secretsOf(enclave()), ['enclave-elect-pki']);
    assert.deepEqual(secretsOf(peer()), ['enclave-elect-admission']);
  });
});

describe('Kubernetes manifests: network policy', () => {
  const policies = () =>
    kubernetesObjects()
      .filter((o) => o.kind === 'NetworkPolicy')
      .map((o) => o.body as Yaml);
  const policyFor = (labels: object) => {
    const found = policies().find(
      (p) => JSON.stringify(p.spec.podSelector.matchLabels) === JSON.stringify(labels),
    );
    assert.ok(found, `a NetworkPolicy selects ${JSON.stringify(labels)}`);
    return found;
  };

  it('lets only peers reach the enclave', () => {
    const policy = policyFor(ENCLAVE);
    assert.deepEqual(policy.spec.policyTypes, ['Ingress']);
    assert.equal(policy.spec.ingress.length, 1);
    assert.deepEqual(policy.spec.ingress[0].from, [{ podSelector: { matchLabels: PEER } }]);
  });

  it('lets only members reach the gossip port', () => {
    const policy = policyFor(PEER);
    assert.deepEqual(policy.spec.policyTypes, ['Ingress']);
    const gossipRules = policy.spec.ingress.filter((rule: Yaml) =>
      rule.ports.some((p: Yaml) => p.protocol === 'UDP'),
    );
    assert.equal(gossipRules.length, 1);
    assert.deepEqual(gossipRules[0].from, [{ podSelector: { matchLabels: PEER } }]);
    assert.deepEqual(gossipRules[0].ports, [{ protocol: 'UDP', port: 7946 }]);
  });
});

describe('Kubernetes manifests: hardened pods', () => {
  for (const [role, deployment] of [
    ['peer', peer],
    ['enclave', enclave],
  ] as const) {
    it(`runs the ${role} non-root, read-only, without capabilities, under the runtime's seccomp profile`, () => {
      const pod = deployment().spec.template.spec;
      assert.equal(pod.securityContext.runAsNonRoot, true);
      assert.notEqual(pod.securityContext.runAsUser, 0);
      assert.equal(pod.securityContext.seccompProfile.type, 'RuntimeDefault');
      assert.equal(pod.automountServiceAccountToken, false);
      for (const container of pod.containers) {
        assert.equal(container.securityContext.readOnlyRootFilesystem, true);
        assert.equal(container.securityContext.allowPrivilegeEscalation, false);
        assert.deepEqual(container.securityContext.capabilities.drop, ['ALL']);
        assert.ok(container.resources.limits.memory, 'a memory limit');
      }
    });
  }
});
