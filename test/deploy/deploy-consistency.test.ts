// docker-compose.yml is the reference deployment; the swarm stack and the
// Kubernetes manifests must run the same image with the same commands, flags,
// ports and hardening. Only what a platform must change may differ: how peers
// find seeds and the enclave (service names), where the PKI is mounted, the
// cluster id. A change to one file that the others miss fails here.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PEER_SETTINGS } from '../../src/peer/config.ts';
import { composeFile, kubernetesObject, stackFile, type Yaml } from './support/manifests.ts';

/** A command with each flag's value reduced to what must not vary across platforms. */
function shape(command: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < command.length; i++) {
    const arg = command[i]!;
    const [flag, inline] = arg.startsWith('--') ? arg.split('=', 2) : [arg, undefined];
    const value =
      inline ?? (arg.startsWith('--') && !command[i + 1]?.startsWith('--') ? command[++i] : undefined);
    out.push(value === undefined ? flag! : `${flag}=${invariantPart(flag!, value)}`);
  }
  return out;
}

// Seeds and URLs name a platform's service; paths are mount points: keep the port or file name
// (the join secret is a directory in compose, a file where secrets are files).
function invariantPart(flag: string, value: string): string {
  if (flag === '--join') return '<seed service>';
  if (flag === '--enclave-url') return `<enclave service>:${new URL(value).port}`;
  if (flag === '--pki-root') return value.slice(value.lastIndexOf('/') + 1);
  if (flag === '--pki') return '<pki dir>';
  if (flag === '--join-secret') return '<join secret>';
  return value;
}

const compose = () => composeFile().services;
const stack = () => stackFile().services;
const container = (name: string): Yaml =>
  kubernetesObject('Deployment', name).spec.template.spec.containers[0];

describe('deployments agree with docker-compose.yml', () => {
  for (const role of ['peer', 'enclave'] as const) {
    it(`runs the ${role} with the same command and flags everywhere`, () => {
      const reference = shape(compose()[role].command);
      assert.deepEqual(shape(stack()[role].command), reference, 'deploy/swarm/stack.yml');
      assert.deepEqual(shape(container(`enclave-elect-${role}`).args), reference, 'deploy/kubernetes');
    });

    it(`runs the ${role} from the same image, hardened the same way`, () => {
      const image = compose()[role].image;
      assert.equal(stack()[role].image, `\${ENCLAVE_ELECT_IMAGE:-${image}}`);
      assert.equal(container(`enclave-elect-${role}`).image, image);
      for (const service of [compose()[role], stack()[role]]) {
        assert.equal(service.read_only, true);
        assert.deepEqual(service.cap_drop, ['ALL']);
        assert.equal(service.user, 'node');
        assert.equal(service.init, true);
      }
      assert.equal(container(`enclave-elect-${role}`).securityContext.readOnlyRootFilesystem, true);
      assert.equal(compose()[role].environment.LOG_LEVEL, stack()[role].environment.LOG_LEVEL);
    });
  }

  it("declares the peer's gossip and admin ports as the peer's defaults", () => {
    const ports = container('enclave-elect-peer').ports.map((p: Yaml) => `${p.containerPort}/${p.protocol}`);
    assert.deepEqual(ports, [
      `${PEER_SETTINGS.gossipPort.default}/UDP`,
      `${PEER_SETTINGS.adminPort.default}/TCP`,
    ]);
    const service = kubernetesObject('Service', 'enclave-elect-peer-gossip');
    assert.deepEqual(
      service.spec.ports.map((p: Yaml) => `${p.port}/${p.protocol}`),
      ports,
      'the headless Service declares the same ports',
    );
  });

  it('serves the enclave on the port its URL names, on every platform', () => {
    const port = (args: string[]) => args[args.indexOf('--port') + 1];
    const urlPort = (args: string[]) =>
      new URL(args.find((a) => a.startsWith('--enclave-url='))!.slice(14)).port;
    assert.equal(urlPort(compose().peer.command), port(compose().enclave.command));
    assert.equal(urlPort(stack().peer.command), port(stack().enclave.command));
    assert.equal(
      urlPort(container('enclave-elect-peer').args),
      port(container('enclave-elect-enclave').args),
    );
    assert.equal(
      String(kubernetesObject('Service', 'enclave-elect-enclave').spec.ports[0].port),
      port(container('enclave-elect-enclave').args),
    );
  });

  it('seeds swarm peers from every task of the service, through DNS round robin', () => {
    const peer = stack().peer;
    assert.ok(peer.command.includes('--join=tasks.peer'));
    assert.equal(peer.deploy.endpoint_mode, 'dnsrr');
    assert.equal(stack().enclave.deploy.endpoint_mode, 'dnsrr');
    assert.equal(stack().enclave.deploy.replicas, 1);
    assert.equal(stack().enclave.deploy.update_config.order, 'stop-first', 'never two enclaves at once');
    assert.equal(peer.deploy.update_config.parallelism, 1, 'one peer at a time keeps a quorum');
    assert.equal(stackFile().networks.cluster.attachable, true);
  });
});
