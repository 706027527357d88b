// Fairness harness (issue 14): the real EnclaveService in-process (manual
// clock, admission on, real signatures), N honest members and M colluding
// malicious members running one scripted strategy, over many elections. It
// reports the malicious members' share of epochs won, which must stay within
// M/N plus 3 binomial standard deviations, and every refusal by code.
//
// Each round the honest members stand (a signed elect the live lease
// answers), the malicious ones run their strategy, the lease runs out (the
// leader stops renewing, as a failed or rotated one does) and one request
// triggers the election. The VRF key is fresh per run, so a seed reproduces
// the strategies' choices, not the enclave's draws.
import { generateKeyPairSync, type KeyObject, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signAdmissionRequest } from '../../src/enclave/admission-proof.ts';
import { ADMISSION_DEFAULTS } from '../../src/enclave/admission-service.ts';
import type { EnclaveService } from '../../src/enclave/enclave-service.ts';
import { createJoinSecret, loadJoinSecret } from '../../src/enclave/join-secret.ts';
import {
  type LeaseOp,
  memberKeyOf,
  signedElectBody,
  signRequest,
} from '../../src/enclave/lease-signature.ts';
import { initPki } from '../../src/enclave/pki.ts';
import { RequestError } from '../../src/enclave/requests.ts';
import { startEnclave } from '../../src/enclave/start-enclave.ts';
import { createLogger } from '../../src/log/logger.ts';
import { seededRandom } from '../../src/random/seeded-random.ts';
import { ManualClock } from '../../src/time/clock.ts';

export const STRATEGIES = [
  'honest',
  'self-only',
  'race-at-end',
  'resign-to-steer',
  'replay',
  'forge-renewals',
  'flood-candidacies',
  'max-term',
] as const;
export type Strategy = (typeof STRATEGIES)[number];

export interface FairnessOptions {
  members: number;
  malicious: number;
  strategy: Strategy;
  elections: number;
  seed?: number;
  /** Enclave RSA key size: 2048 in the bench, 1024 (test-only) in unit tests. */
  keyBits?: number;
}

export interface FairnessResult {
  strategy: Strategy;
  members: number;
  malicious: number;
  elections: number;
  maliciousWins: number;
  share: number;
  expected: number;
  sigma: number;
  /** expected + 3 sigma */
  bound: number;
  withinBound: boolean;
  /** Share of lease time the malicious members held (max-term: what holding on buys). */
  timeShare: number;
  /** Refused malicious requests by code. */
  refused: Record<string, number>;
  /** Malicious requests the enclave accepted although they should have been refused (must be 0). */
  wrongfullyAccepted: number;
}

const CLUSTER = 'fairness';
const LEASE_MS = 2000;

interface Member {
  name: string;
  key: string;
  privateKey: KeyObject;
  malicious: boolean;
}

export async function runFairness(options: FairnessOptions): Promise<FairnessResult> {
  const work = mkdtempSync(join(tmpdir(), 'enclave-elect-fairness-'));
  const clock = new ManualClock(0, Date.now());
  const random = seededRandom(options.seed ?? 1);
  initPki(join(work, 'pki'), { keyBits: options.keyBits ?? 2048 });
  createJoinSecret(join(work, 'join'));
  const started = await startEnclave({
    pkiDir: join(work, 'pki'),
    stateDir: join(work, 'state'),
    clusterId: CLUSTER,
    policy: 'vrf',
    leaseMs: LEASE_MS,
    host: '127.0.0.1',
    port: 0,
    logger: createLogger({ level: 'silent', pretty: false }),
    clock,
    keyBits: options.keyBits ?? 2048,
    joinSecretPath: join(work, 'join'),
    ...(options.strategy === 'max-term' ? { maxTermMs: 3 * LEASE_MS } : {}),
  });
  try {
    return await new Harness(started.service, clock, random, options).run(loadJoinSecret(join(work, 'join')));
  } finally {
    await started.close();
    rmSync(work, { recursive: true, force: true });
  }
}

class Harness {
  readonly #service: EnclaveService;
  readonly #clock: ManualClock;
  readonly #random: ReturnType<typeof seededRandom>;
  readonly #o: FairnessOptions;
  readonly #members: Member[];
  readonly #refused: Record<string, number> = {};
  #wrongfullyAccepted = 0;
  /** Requests recorded for the replay strategy. */
  readonly #recorded: { path: 'elect' | 'renew'; body: object }[] = [];
  #maliciousMs = 0;
  #totalMs = 0;
  /** Malicious wins counted since the caller last read them. */
  #winsSince = 0;
  #admittedAt = 0;

  constructor(
    service: EnclaveService,
    clock: ManualClock,
    random: ReturnType<typeof seededRandom>,
    o: FairnessOptions,
  ) {
    this.#service = service;
    this.#clock = clock;
    this.#random = random;
    this.#o = o;
    // Malicious members are spread over the sorted names, so sort order gives them no place.
    const step = Math.max(1, Math.floor(o.members / Math.max(1, o.malicious)));
    this.#members = Array.from({ length: o.members }, (_, i) => {
      const { privateKey } = generateKeyPairSync('ed25519');
      const malicious = i % step === 0 && i / step < o.malicious;
      return { name: `member-${i}`, key: memberKeyOf(privateKey), privateKey, malicious };
    });
  }

  /** Admit every member (again), as peers do at start and at half their admission's life. */
  async #admitAll(joinSecret: Buffer): Promise<void> {
    for (const [i, m] of this.#members.entries()) {
      const fields = { cluster_id: CLUSTER, name: m.name, key: m.key, ts: this.#clock.wallNow() };
      await this.#service.admit(signAdmissionRequest(fields, joinSecret, m.privateKey), `10.0.0.${i + 1}`);
    }
    this.#admittedAt = this.#clock.wallNow();
  }

  async run(joinSecret: Buffer): Promise<FairnessResult> {
    await this.#admitAll(joinSecret);
    let wins = 0;
    let elections = 0;
    // The first election: everyone stands at a cold start.
    await Promise.all([...this.#members.map((m) => this.#elect(m)), this.#settle()]);
    while (elections < this.#o.elections) {
      if (this.#clock.wallNow() - this.#admittedAt > ADMISSION_DEFAULTS.ttlMs / 2)
        await this.#admitAll(joinSecret);
      const before = this.#service.state.epoch;
      await this.#round();
      elections += this.#service.state.epoch - before;
      wins += this.#winsSince;
      this.#winsSince = 0;
    }
    const m = this.#o.malicious;
    const n = this.#o.members;
    const expected = m / n;
    const sigma = Math.sqrt((expected * (1 - expected)) / elections);
    return {
      strategy: this.#o.strategy,
      members: n,
      malicious: m,
      elections,
      maliciousWins: wins,
      share: wins / elections,
      expected,
      sigma,
      bound: expected + 3 * sigma,
      withinBound: wins / elections <= expected + 3 * sigma,
      timeShare: this.#totalMs === 0 ? 0 : this.#maliciousMs / this.#totalMs,
      refused: this.#refused,
      wrongfullyAccepted: this.#wrongfullyAccepted,
    };
  }

  /** One lease: stand, scheme, hold or not, run out, elect. */
  async #round(): Promise<void> {
    const strategy = this.#o.strategy;
    const lease = this.#service.state.lease!;
    const leader = this.#member(lease.leader.name);
    const honest = this.#members.filter((m) => !m.malicious && m !== leader);
    const bad = this.#members.filter((m) => m.malicious && m !== leader);
    // Honest followers stand (ask-ahead or candidacy refresh): the live lease answers.
    for (const m of honest) await this.#elect(m, true);
    if (strategy !== 'race-at-end') for (const m of bad) await this.#elect(m);
    await this.#scheme(leader, bad);
    // The leader holds its lease: an honest one for this round, a malicious one as long as it can.
    const held = await this.#hold(leader);
    this.#totalMs += held;
    if (leader.malicious) this.#maliciousMs += held;
    this.#clock.advance(LEASE_MS + 1);
    // The election: a racing malicious member triggers it; otherwise an honest follower.
    const anyHonest = honest[Math.floor(this.#random.next() * honest.length)] ?? this.#members[0]!;
    const trigger = strategy === 'race-at-end' && bad.length > 0 ? bad : [anyHonest];
    await Promise.all([...trigger.map((m) => this.#elect(m)), this.#settle()]);
    this.#count();
  }

  async #scheme(leader: Member, bad: Member[]): Promise<void> {
    const lease = this.#service.state.lease!;
    const [first] = bad;
    switch (this.#o.strategy) {
      case 'self-only':
        // Ask with a candidate list naming only itself (the first version's request), signed or not.
        for (const m of bad) {
          await this.#expectRefused('elect', {
            cluster_id: CLUSTER,
            members: [{ name: m.name, key: m.key }],
          });
          const body = this.#electBody(m);
          await this.#expectRefused('elect', { ...body, members: [{ name: m.name, key: m.key }] });
        }
        break;
      case 'replay':
        for (const r of this.#recorded.splice(0)) await this.#expectRefused(r.path, r.body);
        break;
      case 'forge-renewals':
        if (first && !leader.malicious) {
          await this.#expectRefused('renew', this.#leaseBody('renew', lease, first, leader.name));
          await this.#expectRefused('resign', this.#leaseBody('resign', lease, first, leader.name));
        }
        break;
      case 'flood-candidacies':
        for (const m of bad) for (let i = 0; i < 20; i++) await this.#elect(m);
        break;
      default:
        break;
    }
  }

  /** How long the leader holds the lease it was granted; malicious leaders of some strategies act here. */
  async #hold(leader: Member): Promise<number> {
    const strategy = this.#o.strategy;
    if (leader.malicious && strategy === 'resign-to-steer') {
      // Resign at once, hoping a colluder follows; each resign is an election the enclave runs.
      const lease = this.#service.state.lease!;
      await this.#service.resign(this.#leaseBody('resign', lease, leader, leader.name));
      this.#count();
      await this.#elect(leader);
      return 0;
    }
    if (strategy === 'max-term' || (leader.malicious && strategy === 'forge-renewals')) {
      // Renew every quarter lease for as long as the enclave allows (max-term: until E_MAX_TERM;
      // forge-renewals: a malicious leader holds 10 leases, then its lease is made to run out).
      const start = this.#clock.wallNow();
      for (let i = 0; i < 40; i++) {
        this.#clock.advance(LEASE_MS / 4);
        const lease = this.#service.state.lease!;
        if (lease.leader.name !== leader.name) break;
        try {
          const body = this.#leaseBody('renew', lease, leader, leader.name);
          await this.#service.renew(body);
          if (leader.malicious) this.#recorded.push({ path: 'renew', body });
        } catch (error) {
          if (!(error instanceof RequestError)) throw error;
          this.#tally(error.code);
          break;
        }
      }
      return this.#clock.wallNow() - start + LEASE_MS;
    }
    return LEASE_MS;
  }

  #count(): void {
    const leader = this.#member(this.#service.state.lease!.leader.name);
    if (leader.malicious && this.#service.state.lease!.seq === 0) this.#winsSince += 1;
  }

  #member(name: string): Member {
    return this.#members.find((m) => m.name === name)!;
  }

  #electBody(m: Member) {
    return signedElectBody(
      {
        cluster_id: CLUSTER,
        known_epoch: 0,
        wait_ms: 0,
        name: m.name,
        ts: this.#clock.wallNow(),
        nonce: randomBytes(16).toString('hex'),
      },
      m.privateKey,
    );
  }

  #leaseBody(op: LeaseOp, lease: { epoch: number; seq: number }, signer: Member, leader: string) {
    const fields = {
      cluster_id: CLUSTER,
      epoch: lease.epoch,
      seq: lease.seq,
      leader,
      ts: this.#clock.wallNow(),
      nonce: randomBytes(16).toString('hex'),
    };
    return { ...fields, sig: signRequest(op, fields, signer.privateKey) };
  }

  /** Stand: an elect the enclave answers (the live lease, or an election once it ends). */
  async #elect(m: Member, record = false): Promise<void> {
    const body = this.#electBody(m);
    if (record && this.#o.strategy === 'replay') this.#recorded.push({ path: 'elect', body });
    await this.#service.elect(body);
  }

  /** Let the settle delay pass while requests wait for it (a cold start or a lone trigger). */
  async #settle(): Promise<void> {
    for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
    this.#clock.advance(this.#service.candidacySettleMs);
  }

  async #expectRefused(path: 'elect' | 'renew' | 'resign', body: object): Promise<void> {
    try {
      await this.#service[path](body);
      this.#wrongfullyAccepted += 1;
    } catch (error) {
      if (!(error instanceof RequestError)) throw error;
      this.#tally(error.code);
    }
  }

  #tally(code: string): void {
    this.#refused[code] = (this.#refused[code] ?? 0) + 1;
  }
}
