import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { containerName } from '../../src/peer/default-name.ts';

describe('default peer name in a scaled compose service', () => {
  const reverse = async () => ['ee-dev-peer-3.ee-dev_cluster'];

  it('takes the container name from reverse DNS when the hostname is a container id', async () => {
    assert.equal(await containerName('9a16be562b12', '172.18.0.5', reverse), 'ee-dev-peer-3');
  });
  it('keeps a hostname that is not a container id (Kubernetes pod, laptop)', async () => {
    assert.equal(await containerName('peer-0', '10.1.2.3', reverse), undefined);
  });
  it('does not ask for loopback addresses', async () => {
    let asked = false;
    const spy = async () => {
      asked = true;
      return ['x'];
    };
    assert.equal(await containerName('9a16be562b12', '127.0.0.1', spy), undefined);
    assert.equal(asked, false);
  });
  it('gives up quietly on errors, timeouts and unusable answers', async () => {
    const failing = async () => {
      throw new Error('ENOTFOUND');
    };
    const slow = () => new Promise<string[]>(() => {});
    assert.equal(await containerName('9a16be562b12', '172.18.0.5', failing), undefined);
    assert.equal(await containerName('9a16be562b12', '172.18.0.5', slow, 20), undefined);
    assert.equal(await containerName('9a16be562b12', '172.18.0.5', async () => ['bad name!.x']), undefined);
  });
});
