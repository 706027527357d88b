// Members for open-membership tests (no admission, no signatures): m0, m1, ...
import { publicKey } from './simulated-cluster.ts';

export const openAddress = (i: number) => `10.0.${i >> 8}.${i & 255}:7946`;

/** Member i's unsigned alive record at incarnation 1. */
export const openRecord = (i: number) => ({
  name: `m${i}`,
  incarnation: 1,
  address: openAddress(i),
  publicKey: publicKey(i),
});
