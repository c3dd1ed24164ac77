/**
 * The few pieces of ASN.1 DER (X.690) a certificate needs, written and read by hand so that
 * making a CA does not load an ASN.1 library at start-up (docs/benchmarks.md). Encoders return
 * the whole TLV (tag, length, value) as a Buffer; composite values take already encoded
 * elements. The reader walks TLVs only: enough to pick fields out of a certificate node's
 * X509Certificate has already parsed and checked.
 */

const TAG = {
  boolean: 0x01,
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  null: 0x05,
  oid: 0x06,
  utf8String: 0x0c,
  printableString: 0x13,
  ia5String: 0x16,
  utcTime: 0x17,
  generalizedTime: 0x18,
  sequence: 0x30,
  set: 0x31,
} as const

function encodeLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length])
  const bytes: number[] = []
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256)
  return Buffer.from([0x80 | bytes.length, ...bytes])
}

/** One element: tag byte, definite length, contents. */
export function tlv(tag: number, contents: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([tag]), encodeLength(contents.length), contents])
}

export function boolean(value: boolean): Buffer {
  return tlv(TAG.boolean, Buffer.from([value ? 0xff : 0x00]))
}

/**
 * A non-negative INTEGER from its big-endian magnitude (or a safe integer), in the minimal
 * form DER requires: leading zero bytes dropped, one added back when the top bit is set.
 */
export function integer(value: Uint8Array | number): Buffer {
  let bytes: Buffer
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`integer: ${value} is not a non-negative safe integer`)
    const hex = value.toString(16)
    bytes = Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex')
  } else {
    bytes = Buffer.from(value)
  }
  let start = 0
  while (start < bytes.length - 1 && bytes[start] === 0) start++
  bytes = bytes.subarray(start)
  if (bytes.length === 0) bytes = Buffer.from([0])
  if (bytes[0] & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes])
  return tlv(TAG.integer, bytes)
}

/** A BIT STRING of whole bytes (keys, signatures). */
export function bitString(bytes: Uint8Array, unusedBits = 0): Buffer {
  return tlv(TAG.bitString, Buffer.concat([Buffer.from([unusedBits]), bytes]))
}

/**
 * A named BIT STRING (like KeyUsage) with the given bits set, bit 0 being the first (most
 * significant) bit; DER drops trailing zero bits.
 */
export function namedBits(bits: number[]): Buffer {
  if (bits.length === 0) return bitString(Buffer.alloc(0))
  const last = Math.max(...bits)
  const bytes = Buffer.alloc(Math.floor(last / 8) + 1)
  for (const bit of bits) bytes[Math.floor(bit / 8)] |= 0x80 >> (bit % 8)
  return bitString(bytes, 7 - (last % 8))
}

export function octetString(bytes: Uint8Array): Buffer {
  return tlv(TAG.octetString, bytes)
}

export function nullValue(): Buffer {
  return tlv(TAG.null, Buffer.alloc(0))
}

/** An OBJECT IDENTIFIER from its dotted form ("1.2.840.10045.4.3.2"). */
export function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map(Number)
  if (arcs.length < 2 || arcs.some((arc) => !Number.isSafeInteger(arc) || arc < 0) || arcs[0] > 2 || (arcs[0] < 2 && arcs[1] > 39)) {
    throw new RangeError(`oid: "${dotted}" is not an object identifier`)
  }
  const bytes: number[] = []
  for (const arc of [arcs[0] * 40 + arcs[1], ...arcs.slice(2)]) {
    const base128 = [arc % 128]
    for (let rest = Math.floor(arc / 128); rest > 0; rest = Math.floor(rest / 128)) base128.unshift(0x80 | (rest % 128))
    bytes.push(...base128)
  }
  return tlv(TAG.oid, Buffer.from(bytes))
}

export function utf8String(value: string): Buffer {
  return tlv(TAG.utf8String, Buffer.from(value, 'utf8'))
}

const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?]*$/

export function isPrintable(value: string): boolean {
  return PRINTABLE.test(value)
}

export function printableString(value: string): Buffer {
  if (!isPrintable(value)) throw new RangeError(`printableString: "${value}" has characters PrintableString cannot hold`)
  return tlv(TAG.printableString, Buffer.from(value, 'latin1'))
}

export function ia5String(value: string): Buffer {
  if (!/^[\x00-\x7f]*$/.test(value)) throw new RangeError(`ia5String: "${value}" is not ASCII`)
  return tlv(TAG.ia5String, Buffer.from(value, 'latin1'))
}

/**
 * A certificate Time as RFC 5280 4.1.2.5 wants it: UTCTime (YYMMDDHHMMSSZ) through 2049,
 * GeneralizedTime (YYYYMMDDHHMMSSZ) from 2050; always UTC, whole seconds (milliseconds dropped).
 */
export function time(date: Date): Buffer {
  const year = date.getUTCFullYear()
  if (!Number.isFinite(date.getTime()) || year < 1950 || year > 9999) throw new RangeError(`time: ${String(date)} cannot be a certificate time`)
  const two = (value: number) => String(value).padStart(2, '0')
  const rest = `${two(date.getUTCMonth() + 1)}${two(date.getUTCDate())}${two(date.getUTCHours())}${two(date.getUTCMinutes())}${two(date.getUTCSeconds())}Z`
  return year < 2050
    ? tlv(TAG.utcTime, Buffer.from(`${two(year % 100)}${rest}`, 'latin1'))
    : tlv(TAG.generalizedTime, Buffer.from(`${year}${rest}`, 'latin1'))
}

export function sequence(...elements: Uint8Array[]): Buffer {
  return tlv(TAG.sequence, Buffer.concat(elements))
}

/** A SET OF: DER orders the elements by their encodings. */
export function set(...elements: Uint8Array[]): Buffer {
  return tlv(TAG.set, Buffer.concat([...elements].sort((a, b) => Buffer.compare(a, b))))
}

/** [n] EXPLICIT: a constructed context-specific element wrapping the whole inner element. */
export function explicit(tagNumber: number, element: Uint8Array): Buffer {
  return tlv(0xa0 | checkTagNumber(tagNumber), element)
}

/**
 * [n] IMPLICIT: the element's own tag replaced by context-specific tag n (constructed when the
 * element was: a SEQUENCE stays constructed, an OCTET STRING or IA5String stays primitive).
 */
export function implicit(tagNumber: number, element: Uint8Array): Buffer {
  const {tag, contents} = readElement(element)
  return tlv((tag & 0x20) | 0x80 | checkTagNumber(tagNumber), contents)
}

function checkTagNumber(tagNumber: number): number {
  if (!Number.isInteger(tagNumber) || tagNumber < 0 || tagNumber > 30) throw new RangeError(`tag number ${tagNumber} is out of range`)
  return tagNumber
}

/** One element read back: its tag byte, its contents, and the whole encoding. */
export interface Element {
  tag: number
  contents: Buffer
  encoded: Buffer
}

/** The element at `offset` of `bytes` (single-byte tags, definite lengths: what DER has). */
export function readElement(bytes: Uint8Array, offset = 0): Element {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const fail = (what: string): never => {
    throw new RangeError(`DER: ${what} at offset ${offset}`)
  }
  if (offset + 2 > buffer.length) fail('truncated element')
  const tag = buffer[offset]
  if ((tag & 0x1f) === 0x1f) fail('multi-byte tag')
  let length = buffer[offset + 1]
  let header = 2
  if (length & 0x80) {
    const count = length & 0x7f
    if (count === 0 || count > 4) fail('unsupported length')
    if (offset + 2 + count > buffer.length) fail('truncated length')
    length = 0
    for (let i = 0; i < count; i++) length = length * 256 + buffer[offset + 2 + i]
    header += count
  }
  const end = offset + header + length
  if (end > buffer.length) fail('truncated contents')
  return {tag, contents: buffer.subarray(offset + header, end), encoded: buffer.subarray(offset, end)}
}

/** The elements inside a constructed element's contents, in order. */
export function readChildren(element: Element): Element[] {
  const children: Element[] = []
  for (let offset = 0; offset < element.contents.length;) {
    const child = readElement(element.contents, offset)
    children.push(child)
    offset += child.encoded.length
  }
  return children
}
