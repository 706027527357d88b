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
    assert.equal(await containerName('9a16be562b12', '172.18.0.5', failing, 10), undefined);
    assert.equal(await containerName('9a16be562b12', '172.18.0.5', slow, 20), undefined);
    assert.equal(await containerName('9a16be562b12', '172.18.0.5', async () => ['bad name!.x']), undefined);
  });
  it('asks again when DNS is slow or fails at first (a busy host starting many containers)', async () => {
    let calls = 0;
    const flaky = (): Promise<string[]> => {
      calls++;
      if (calls === 1) return new Promise(() => {}); // no answer in time
      if (calls === 2) return Promise.reject(new Error('ETIMEOUT'));
      return Promise.resolve(['ee-dev-peer-4.ee-dev_cluster']);
    };
    assert.equal(await containerName('9a16be562b12', '172.18.0.6', flaky, 20), 'ee-dev-peer-4');
    assert.equal(calls, 3);
  });
});
