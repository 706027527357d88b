// deploy/kubernetes is validated offline and strictly: each object is a typed
// literal checked by tsc --strict against the Kubernetes API types, so a wrong
// type and an unknown field are both errors (kubernetes-typecheck.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ManifestObject, typecheckManifests } from './support/kubernetes-typecheck.ts';
import { kubernetesObjects, type Yaml } from './support/manifests.ts';

function peerDeployment(): ManifestObject {
  const found = kubernetesObjects().find((o) => o.kind === 'Deployment' && o.name === 'enclave-elect-peer');
  assert.ok(found, 'deploy/kubernetes has the peer Deployment');
  return structuredClone(found);
}

describe('Kubernetes manifests, type-checked against the API types', () => {
  it('has no validation error in any object', () => {
    const objects = kubernetesObjects();
    assert.ok(objects.length >= 8, `found ${objects.length} objects`);
    assert.deepEqual(typecheckManifests(objects), []);
  });

  it('catches an unknown field deep inside an object', () => {
    const deployment = peerDeployment();
    const container = (deployment.body as Yaml).spec.template.spec.containers[0];
    container.readinessProbes = container.readinessProbe; // a typo: the API has readinessProbe
    const errors = typecheckManifests([deployment]);
    assert.equal(errors.length, 1);
    assert.equal(errors[0]?.object, 'Deployment enclave-elect-peer');
    assert.match(errors[0]?.message ?? '', /readinessProbes/);
  });

  it('catches a field of the wrong type', () => {
    const deployment = peerDeployment();
    (deployment.body as Yaml).spec.replicas = 'five';
    const errors = typecheckManifests([deployment]);
    assert.equal(errors.length, 1);
    assert.match(errors[0]?.message ?? '', /not assignable to type 'number'/);
  });

  it('refuses an API version it has no types for', () => {
    const deployment = peerDeployment();
    deployment.apiVersion = 'apps/v1beta1';
    assert.match(typecheckManifests([deployment])[0]?.message ?? '', /no API types for apps\/v1beta1/);
  });
});
