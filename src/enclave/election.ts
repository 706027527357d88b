// The election rules of DESIGN.md §5 as pure decisions over the epoch state:
// given the state, a validated request and the time, say what to do. The
// service applies the decision (sign, persist, reply) under one lock, so every
// decision sees the effect of the one before: one leader per epoch.
import type { MemberIdentity } from '../crypto/member-digest.ts';
import { type LeaseOp, verifyRequest } from './lease-signature.ts';
import { type RenewRequest, RequestError, type ResignRequest } from './requests.ts';
import type { EpochState, LeaseRecord } from './state-store.ts';

export type ElectDecision =
  | { kind: 'current'; lease: LeaseRecord }
  | { kind: 'wait'; until: number }
  | { kind: 'inherited'; until: number }
  | { kind: 'elect'; epoch: number; previousLeader: string | null };

export function leaseIsLive(lease: LeaseRecord | null, now: number): lease is LeaseRecord {
  return lease !== null && !lease.ended && now < lease.leaseEnd;
}

/**
 * The candidates for a new epoch: the enclave's candidates without the
 * previous leader (its lease ran out, it resigned, or its term ended). If that
 * leader is the only candidate it is elected again, so a one-member cluster
 * keeps a leader; it cannot exploit this, since every live member's own
 * candidacy is in the set.
 */
export function candidatesWithout(
  members: readonly MemberIdentity[],
  excluded: string | null,
): MemberIdentity[] {
  const rest = members.filter((m) => m.name !== excluded);
  return rest.length > 0 ? rest : [...members];
}

/** The epoch a new election starts: above both our counter and any epoch the caller has seen. */
export function nextEpoch(state: EpochState, knownEpoch: number): number {
  return Math.max(state.epoch, knownEpoch) + 1;
}

/**
 * Elect: a live lease is the answer (or, with a wait budget that covers its
 * end, wait for it to end). A live lease granted before a restart, under the
 * previous key (`kid` differs), is honoured but cannot be re-served: its
 * certificate and VRF proof belong to a key this process no longer has.
 */
export function decideElect(
  state: EpochState,
  request: { known_epoch: number },
  now: number,
  waitDeadline: number,
  kid: string,
): ElectDecision {
  const lease = state.lease;
  if (leaseIsLive(lease, now)) {
    if (lease.leaseEnd <= waitDeadline) return { kind: 'wait', until: lease.leaseEnd };
    return lease.kid === kid ? { kind: 'current', lease } : { kind: 'inherited', until: lease.leaseEnd };
  }
  const previousLeader = state.lease?.leader.name ?? null;
  return {
    kind: 'elect',
    epoch: nextEpoch(state, request.known_epoch),
    previousLeader,
  };
}

/**
 * Authorise a renew or resign: it must name the current epoch and its leader,
 * carry the lease's current sequence, and be signed by the leader's key. A
 * lease that ran out but was not yet superseded may still be renewed: nobody
 * else holds it, and the leader's own clock already stopped it acting.
 */
export function authorizeLeaseRequest(
  op: LeaseOp,
  state: EpochState,
  request: RenewRequest | ResignRequest,
  kid: string,
): LeaseRecord {
  const lease = state.lease;
  if (!lease || request.epoch !== lease.epoch) {
    throw new RequestError(
      409,
      'E_STALE_EPOCH',
      `epoch ${request.epoch} is not the current epoch ${lease?.epoch ?? 0}`,
    );
  }
  if (lease.ended)
    throw new RequestError(409, 'E_LEASE_ENDED', `the lease of epoch ${lease.epoch} was resigned`);
  if (request.leader !== lease.leader.name) {
    throw new RequestError(
      403,
      'E_NOT_LEADER',
      `${request.leader} is not the leader of epoch ${lease.epoch}`,
    );
  }
  if (!verifyRequest(op, request, request.sig, lease.leader.key)) {
    throw new RequestError(403, 'E_BAD_SIGNATURE', `${op} is not signed by the leader's key`);
  }
  if (request.seq !== lease.seq) {
    throw new RequestError(
      409,
      'E_STALE_SEQUENCE',
      `seq ${request.seq} is not the lease's current seq ${lease.seq}`,
    );
  }
  // A lease from before a restart runs out unrenewed (its proof is under the old key); resigning it is fine.
  if (op === 'renew' && lease.kid !== kid) {
    throw new RequestError(
      409,
      'E_LEASE_INHERITED',
      `epoch ${lease.epoch} predates an enclave restart; elect when it ends`,
    );
  }
  return lease;
}
