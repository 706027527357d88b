// What chain validation needs from a certificate that node:crypto's
// X509Certificate does not tell: its signature algorithm and its extensions
// (which are critical, the CA flag and path length, the keyCertSign bit),
// read from the DER with ./der.ts. Malformed DER throws.
import { children, oidText, readTlv, smallInteger, type Tlv } from './der.ts';

export const OID = {
  sha256WithRSAEncryption: '1.2.840.113549.1.1.11',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
} as const;

export interface CertificateProfile {
  signatureAlgorithm: string;
  /** Every extension by OID, with its critical flag and its value (the OCTET STRING's content). */
  extensions: Map<string, { critical: boolean; value: Buffer }>;
  /** Absent when the certificate has no basicConstraints extension. */
  basicConstraints?: { ca: boolean; pathLength?: number };
  /** Absent when the certificate has no keyUsage extension. */
  keyCertSign?: boolean;
}

const SEQUENCE = 0x30;
const BOOLEAN = 0x01;
const INTEGER = 0x02;
const BIT_STRING = 0x03;
const OBJECT_IDENTIFIER = 0x06;
const EXTENSIONS_TAG = 0xa3;

function expect(tlv: Tlv | undefined, tag: number, what: string): Tlv {
  if (tlv?.tag !== tag) throw new RangeError(`certificate: ${what} is not where X.509 puts it`);
  return tlv;
}

export function certificateProfile(der: Buffer): CertificateProfile {
  const [tbs, algorithm] = children(expect(readTlv(der), SEQUENCE, 'Certificate').value);
  const algorithmOid = children(expect(algorithm, SEQUENCE, 'signatureAlgorithm').value)[0];
  const profile: CertificateProfile = {
    signatureAlgorithm: oidText(expect(algorithmOid, OBJECT_IDENTIFIER, 'algorithm OID').value),
    extensions: new Map(),
  };
  const wrapper = children(expect(tbs, SEQUENCE, 'TBSCertificate').value).find(
    (t) => t.tag === EXTENSIONS_TAG,
  );
  if (!wrapper) return profile;
  for (const extension of children(expect(children(wrapper.value)[0], SEQUENCE, 'extensions').value)) {
    const fields = children(expect(extension, SEQUENCE, 'Extension').value);
    const oid = oidText(expect(fields[0], OBJECT_IDENTIFIER, 'extnID').value);
    const critical = fields.length === 3 && expect(fields[1], BOOLEAN, 'critical').value[0] !== 0;
    const value = expect(fields.at(-1), 0x04, 'extnValue').value;
    if (profile.extensions.has(oid)) throw new RangeError(`certificate: extension ${oid} appears twice`);
    profile.extensions.set(oid, { critical, value });
  }
  const basic = profile.extensions.get(OID.basicConstraints);
  if (basic) {
    const fields = children(expect(readTlv(basic.value), SEQUENCE, 'BasicConstraints').value);
    const ca = fields[0]?.tag === BOOLEAN && fields[0].value[0] !== 0;
    const length = fields.find((f) => f.tag === INTEGER);
    profile.basicConstraints = length ? { ca, pathLength: smallInteger(length.value) } : { ca };
  }
  const usage = profile.extensions.get(OID.keyUsage);
  if (usage) {
    const bits = expect(readTlv(usage.value), BIT_STRING, 'KeyUsage').value;
    // Octet 0 counts unused bits; keyCertSign is bit 5, from the most significant.
    profile.keyCertSign = bits.length > 1 && (bits[1]! & 0x04) !== 0;
  }
  return profile;
}
