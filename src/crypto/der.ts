// A minimal DER reader (X.690) for the few X.509 fields node:crypto's
// X509Certificate does not expose: the signature algorithm, and each
// extension with its critical flag (basic constraints, key usage). Definite
// lengths only, as DER requires; anything else throws.

export interface Tlv {
  tag: number;
  /** The value's bytes (a view of the input). */
  value: Buffer;
  /** Offset just past this element in the input. */
  end: number;
}

export function readTlv(input: Buffer, offset = 0): Tlv {
  if (offset + 2 > input.length) throw new RangeError('DER: truncated element');
  const tag = input[offset]!;
  if ((tag & 0x1f) === 0x1f) throw new RangeError('DER: multi-byte tags are not used in X.509');
  let length = input[offset + 1]!;
  let start = offset + 2;
  if (length & 0x80) {
    const octets = length & 0x7f;
    if (octets === 0 || octets > 4) throw new RangeError('DER: indefinite or oversized length');
    if (start + octets > input.length) throw new RangeError('DER: truncated length');
    length = 0;
    for (let i = 0; i < octets; i++) length = length * 256 + input[start + i]!;
    start += octets;
  }
  const end = start + length;
  if (end > input.length) throw new RangeError('DER: element runs past its container');
  return { tag, value: input.subarray(start, end), end };
}

/** The elements inside a constructed value (SEQUENCE, SET, context tag). */
export function children(value: Buffer): Tlv[] {
  const items: Tlv[] = [];
  for (let offset = 0; offset < value.length; ) {
    const item = readTlv(value, offset);
    items.push(item);
    offset = item.end;
  }
  return items;
}

/** An OBJECT IDENTIFIER's value as dotted text. */
export function oidText(value: Buffer): string {
  if (value.length === 0) throw new RangeError('DER: empty OID');
  const arcs: number[] = [];
  let arc = 0;
  for (const byte of value) {
    arc = arc * 128 + (byte & 0x7f);
    if ((byte & 0x80) === 0) {
      arcs.push(arc);
      arc = 0;
    }
  }
  const first = arcs.shift()!;
  const head = first < 80 ? [Math.floor(first / 40), first % 40] : [2, first - 80];
  return [...head, ...arcs].join('.');
}

/** A non-negative INTEGER's value that fits in a JavaScript number. */
export function smallInteger(value: Buffer): number {
  if (value.length === 0 || value.length > 6 || value[0]! & 0x80) throw new RangeError('DER: bad INTEGER');
  return value.reduce((n, byte) => n * 256 + byte, 0);
}
