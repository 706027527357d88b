// What the membership core asks about identities: is this record its
// member's own, signed by the key its admission names (AdmissionBook); a
// signature on our own records; our own admission to hand out; and when
// members' admissions are about to lapse and should be asked for again.
import type { KeyObject } from 'node:crypto';
import type { AdmissionClaims } from '../../crypto/admission-certificate.ts';
import { type SignableRecord, signRecord } from '../../crypto/member-record-signature.ts';
import {
  AdmissionBook,
  type AdmissionBookOptions,
  type OfferResult,
  type RecordCheck,
} from './admission-book.ts';

export interface MemberAuthority {
  /** The record as it verified against its member's admission, or why it is refused. */
  check(record: SignableRecord & { signature?: Uint8Array | undefined }): RecordCheck;
  sign(record: SignableRecord): Uint8Array;
  offer(token: string): OfferResult;
  /** A member's admission certificate, to answer a member that asks. */
  token(name: string): string | undefined;
  /** This peer's own admission certificate (undefined until admitted). */
  own(): string | undefined;
  /**
   * Milliseconds until `name`'s admission enters the last third of its life
   * (time to ask for its renewal; 0 or less: now), undefined if none is held.
   */
  staleIn(name: string): number | undefined;
}

export class PeerAuthority implements MemberAuthority {
  readonly book: AdmissionBook;
  readonly #signer: KeyObject;
  readonly #now: () => number;
  #own: string | undefined;

  constructor(options: AdmissionBookOptions & { signer: KeyObject }) {
    this.book = new AdmissionBook(options);
    this.#signer = options.signer;
    this.#now = options.now;
  }

  /** Take this peer's own (new) admission: kept in the book like anyone's. */
  setOwn(token: string): OfferResult {
    const result = this.book.offer(token);
    if (result.ok) this.#own = token;
    return result;
  }

  check(record: SignableRecord & { signature?: Uint8Array | undefined }): RecordCheck {
    return this.book.check(record);
  }

  sign(record: SignableRecord): Uint8Array {
    return signRecord(record, this.#signer);
  }

  offer(token: string): OfferResult {
    return this.book.offer(token);
  }

  token(name: string): string | undefined {
    return this.book.token(name);
  }

  own(): string | undefined {
    return this.#own;
  }

  staleIn(name: string): number | undefined {
    const claims: AdmissionClaims | undefined = this.book.admission(name);
    return claims && claims.exp - (claims.exp - claims.iat) / 3 - this.#now();
  }
}
