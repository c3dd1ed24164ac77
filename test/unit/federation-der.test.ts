import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import * as der from '../../src/federation/der.js'

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex')

describe('the DER encoder (X.690 vectors)', () => {
  it('writes INTEGERs in minimal form, with a zero byte before a set top bit', () => {
    assert.equal(hex(der.integer(0)), '020100')
    assert.equal(hex(der.integer(2)), '020102')
    assert.equal(hex(der.integer(127)), '02017f')
    assert.equal(hex(der.integer(128)), '02020080')
    assert.equal(hex(der.integer(256)), '02020100')
    assert.equal(hex(der.integer(Buffer.from('000001', 'hex'))), '020101')
    assert.equal(hex(der.integer(Buffer.from('00ff', 'hex'))), '020200ff')
    assert.equal(hex(der.integer(Buffer.from('0000', 'hex'))), '020100')
    assert.throws(() => der.integer(-1), RangeError)
  })

  it('writes short and long lengths', () => {
    assert.equal(hex(der.octetString(Buffer.alloc(127))).slice(0, 4), '047f')
    assert.equal(hex(der.octetString(Buffer.alloc(128))).slice(0, 6), '048180')
    assert.equal(hex(der.octetString(Buffer.alloc(300))).slice(0, 8), '0482012c')
    assert.equal(hex(der.octetString(Buffer.alloc(70000))).slice(0, 10), '0483011170')
  })

  it('writes OBJECT IDENTIFIERs, with base-128 arcs', () => {
    assert.equal(hex(der.oid('1.2.840.10045.4.3.2')), '06082a8648ce3d040302') // ecdsa-with-SHA256
    assert.equal(hex(der.oid('2.5.29.14')), '0603551d0e')
    assert.equal(hex(der.oid('1.3.6.1.5.5.7.3.1')), '06082b06010505070301')
    assert.equal(hex(der.oid('2.999.3')), '0603883703')
    assert.throws(() => der.oid('1'), RangeError)
    assert.throws(() => der.oid('1.40'), RangeError)
    assert.throws(() => der.oid('3.1'), RangeError)
  })

  it('writes BOOLEAN, NULL, BIT STRINGs and named bits without trailing zero bits', () => {
    assert.equal(hex(der.boolean(true)), '0101ff')
    assert.equal(hex(der.boolean(false)), '010100')
    assert.equal(hex(der.nullValue()), '0500')
    assert.equal(hex(der.bitString(Buffer.from('abcd', 'hex'))), '030300abcd')
    assert.equal(hex(der.namedBits([0, 5, 6])), '03020186') // digitalSignature, keyCertSign, cRLSign
    assert.equal(hex(der.namedBits([0, 2])), '030205a0') // digitalSignature, keyEncipherment
    assert.equal(hex(der.namedBits([7])), '03020001')
    assert.equal(hex(der.namedBits([8])), '0303070080') // decipherOnly
    assert.equal(hex(der.namedBits([])), '030100')
  })

  it('writes strings, refusing what a type cannot hold', () => {
    assert.equal(hex(der.printableString('US')), '13025553')
    assert.equal(hex(der.utf8String('é')), '0c02c3a9')
    assert.equal(hex(der.ia5String('a.b')), '1603612e62')
    assert.equal(der.isPrintable("HashiCorp Inc. (a-b) '+,/:=?"), true)
    assert.equal(der.isPrintable('a@b'), false)
    assert.equal(der.isPrintable('a_b'), false)
    assert.throws(() => der.printableString('a@b'), RangeError)
    assert.throws(() => der.ia5String('é'), RangeError)
  })

  it('writes UTCTime through 2049 and GeneralizedTime from 2050, whole seconds in UTC (RFC 5280 4.1.2.5)', () => {
    const text = (encoded: Buffer) => ({tag: encoded[0], value: encoded.subarray(2).toString('latin1')})
    assert.deepEqual(text(der.time(new Date('2026-12-01T02:03:04.999Z'))), {tag: 0x17, value: '261201020304Z'})
    assert.deepEqual(text(der.time(new Date('1999-01-02T00:00:00Z'))), {tag: 0x17, value: '990102000000Z'})
    assert.deepEqual(text(der.time(new Date('2049-12-31T23:59:59Z'))), {tag: 0x17, value: '491231235959Z'})
    assert.deepEqual(text(der.time(new Date('2050-01-01T00:00:00Z'))), {tag: 0x18, value: '20500101000000Z'})
    assert.deepEqual(text(der.time(new Date('2136-11-07T10:00:00Z'))), {tag: 0x18, value: '21361107100000Z'})
    assert.throws(() => der.time(new Date('1949-12-31T23:59:59Z')), RangeError)
    assert.throws(() => der.time(new Date(Number.NaN)), RangeError)
  })

  it('writes SEQUENCE, SET (elements sorted) and context-specific tags', () => {
    assert.equal(hex(der.sequence()), '3000')
    assert.equal(hex(der.sequence(der.integer(1), der.boolean(true))), '30060201010101ff')
    assert.equal(hex(der.set(der.integer(2), der.integer(1))), '3106020101020102')
    assert.equal(hex(der.explicit(0, der.integer(2))), 'a003020102')
    assert.equal(hex(der.explicit(3, der.sequence())), 'a3023000')
    assert.equal(hex(der.implicit(0, der.octetString(Buffer.from('0102', 'hex')))), '80020102') // keyIdentifier
    assert.equal(hex(der.implicit(2, der.ia5String('a'))), '820161') // dNSName
    assert.equal(hex(der.implicit(7, der.octetString(Buffer.from([127, 0, 0, 1])))), '87047f000001') // iPAddress
    assert.equal(hex(der.implicit(1, der.sequence(der.nullValue()))), 'a1020500')
    assert.throws(() => der.explicit(31, der.nullValue()), RangeError)
  })
})

describe('the DER reader', () => {
  it('reads back what the encoder writes, children in order', () => {
    const encoded = der.sequence(der.integer(300), der.octetString(Buffer.alloc(200, 7)), der.explicit(3, der.sequence()))
    const element = der.readElement(encoded)
    assert.equal(element.tag, 0x30)
    assert.equal(element.encoded.length, encoded.length)
    const children = der.readChildren(element)
    assert.deepEqual(
      children.map((child) => child.tag),
      [0x02, 0x04, 0xa3],
    )
    assert.equal(hex(children[0].contents), '012c')
    assert.equal(children[1].contents.length, 200)
    assert.equal(hex(children[2].encoded), 'a3023000')
    const header = encoded.length - element.contents.length
    assert.equal(header, 3)
    assert.equal(hex(der.readElement(encoded, header + children[0].encoded.length).encoded.subarray(0, 3)), '0481c8')
  })

  it('refuses truncated input with a RangeError', () => {
    assert.throws(() => der.readElement(Buffer.from('30', 'hex')), /truncated element/)
    assert.throws(() => der.readElement(Buffer.from('3005020101', 'hex')), /truncated contents/)
    assert.throws(() => der.readElement(Buffer.from('3082', 'hex')), /truncated length/)
    assert.throws(() => der.readElement(Buffer.from('1f0100', 'hex')), /multi-byte tag/)
    assert.throws(() => der.readElement(Buffer.from('3080', 'hex')), /unsupported length/)
  })
})
