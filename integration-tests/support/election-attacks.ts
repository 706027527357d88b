// The requests of the election attacks (issue 14), as raw JSON an attacker
// would write, and a tally of what the enclave answered to each. Used by the
// attack programs that run inside containers on a cluster's network
// (outsider-attacker.ts, malicious-member.ts); nothing here is in the
// production peer. Formats: docs/protocol/enclave.md §5.
import { generateKeyPairSync, type KeyObject, randomBytes } from 'node:crypto';
import {
  type ElectRequestFields,
  type LeaseOp,
  type LeaseRequestFields,
  memberKeyOf,
  signRequest,
} from '../../src/enclave/lease-signature.ts';

/** What the enclave answered to one attempt of one attack. */
export interface Answer {
  status: number;
  code: string | null;
  /** The certificate's claims when the answer carried one (2xx). */
  claims: CertificateClaims | null;
  certificate: string | null;
}

export interface CertificateClaims {
  epoch: number;
  seq: number;
  leader: { name: string; key: string };
  lease_end: number;
}

export function decodeClaims(compact: string): CertificateClaims {
  return JSON.parse(Buffer.from(compact.split('.')[1] ?? '', 'base64url').toString('utf8'));
}

export async function post(url: string, body: unknown, timeoutMs = 10_000): Promise<Answer> {
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const reply = (await response.json().catch(() => ({}))) as {
      certificate?: unknown;
      error?: { code?: unknown };
    };
    const certificate = typeof reply.certificate === 'string' ? reply.certificate : null;
    return {
      status: response.status,
      code: typeof reply.error?.code === 'string' ? reply.error.code : null,
      claims: certificate ? decodeClaims(certificate) : null,
      certificate,
    };
  } catch (error) {
    return { status: 0, code: (error as Error).name, claims: null, certificate: null };
  }
}

export const freshness = () => ({ ts: Date.now(), nonce: randomBytes(16).toString('hex') });

export function newKey(): KeyObject {
  return generateKeyPairSync('ed25519').privateKey;
}

/**
 * A signed elect body. `name` may differ from the key's owner (speaking for
 * another member); `extra` adds fields the protocol does not have (a candidate
 * list of the caller's choosing), signed along with the rest.
 */
export function electBody(
  clusterId: string,
  name: string,
  signer: KeyObject,
  options: { knownEpoch?: number; waitMs?: number; extra?: Record<string, unknown> } = {},
): Record<string, unknown> {
  const fields = {
    cluster_id: clusterId,
    known_epoch: options.knownEpoch ?? 0,
    wait_ms: options.waitMs ?? 0,
    name,
    key: memberKeyOf(signer),
    ...freshness(),
    ...options.extra,
  };
  return { ...fields, sig: signRequest('elect', fields as ElectRequestFields, signer) };
}

/** A signed renew or resign of `claims`' lease, in the name of `leader`, signed by `signer`. */
export function leaseBody(
  op: LeaseOp,
  clusterId: string,
  claims: CertificateClaims,
  signer: KeyObject,
  options: { leader?: string; extra?: Record<string, unknown> } = {},
): Record<string, unknown> {
  const fields = {
    cluster_id: clusterId,
    epoch: claims.epoch,
    seq: claims.seq,
    leader: options.leader ?? claims.leader.name,
    ...freshness(),
    ...options.extra,
  };
  return { ...fields, sig: signRequest(op, fields as LeaseRequestFields, signer) };
}

/**
 * The first version's elect (the demo's protocol, and the issue's attack):
 * unsigned, naming its own candidate list. An enclave without issue 14's
 * protection elected from it.
 */
export function demoElectBody(clusterId: string, members: { name: string; key: string }[], waitMs: number) {
  return { cluster_id: clusterId, known_epoch: 0, members, wait_ms: waitMs };
}

/** Answers by attack, then by "status code"; and every certificate an attack was granted. */
export class Tally {
  readonly counts: Record<string, Record<string, number>> = {};
  readonly granted: { attack: string; epoch: number; leader: string }[] = [];

  add(attack: string, answer: Answer): Answer {
    const key = `${answer.status} ${answer.code ?? '-'}`;
    const byAnswer = this.counts[attack] ?? {};
    byAnswer[key] = (byAnswer[key] ?? 0) + 1;
    this.counts[attack] = byAnswer;
    if (answer.claims && this.granted.length < 200) {
      this.granted.push({ attack, epoch: answer.claims.epoch, leader: answer.claims.leader.name });
    }
    return answer;
  }
}

/** Run `round` until `signal` aborts, at most once per `everyMs`. */
export async function repeat(
  signal: AbortSignal,
  everyMs: number,
  round: () => Promise<void>,
): Promise<void> {
  while (!signal.aborted) {
    const started = Date.now();
    await round();
    const rest = everyMs - (Date.now() - started);
    if (rest > 0) await new Promise((resolve) => setTimeout(resolve, rest));
  }
}
