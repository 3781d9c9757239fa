// Names as bytes (core/lib/raw-names.ts): every byte string survives
// bytes -> string -> bytes; UTF-8 names are the strings they always were.
import test from 'brittle'
import { nameFromBytes, nameToBytes, nameByteLength, isPlainName, fsPath } from '../../core/index.js'
import { randomBuffer } from '../helpers/index.js'

test('random byte names round-trip byte for byte', async t => {
  let escaped = 0
  for (let seed = 1; seed <= 3000; seed++) {
    const len = 1 + (seed % 40)
    const bytes = randomBuffer(len, seed)
    const name = nameFromBytes(bytes)
    if (!nameToBytes(name).equals(bytes)) { t.fail(`seed ${seed}: ${bytes.toString('hex')} came back as ${nameToBytes(name).toString('hex')}`); return }
    if (nameByteLength(name) !== len) { t.fail(`seed ${seed}: length ${nameByteLength(name)} for ${len} bytes`); return }
    if (!isPlainName(name)) escaped++
  }
  t.ok(escaped > 2000, `most random names are not UTF-8 (${escaped} of 3000 held escaped)`)
})

test('UTF-8 names are unchanged; invalid and edge sequences are escaped one byte each', async t => {
  for (const s of ['plain.txt', 'ünï', '日本語', '💀 emoji', 'real \ufffd replacement', '']) {
    t.is(nameFromBytes(Buffer.from(s)), s)
    t.ok(nameToBytes(s).equals(Buffer.from(s)))
    t.is(fsPath(s), s, 'plain names go to fs calls as strings')
  }
  t.is(nameFromBytes(Buffer.from([0x63, 0x61, 0x66, 0xe9])), 'caf\udce9', 'latin-1 é')
  t.is(nameFromBytes(Buffer.from([0xc0, 0xaf])), '\udcc0\udcaf', 'an overlong "/" stays two bytes, not a slash')
  t.is(nameFromBytes(Buffer.from([0xed, 0xa0, 0x80])), '\udced\udca0\udc80', 'an encoded surrogate is three escaped bytes')
  t.is(nameFromBytes(Buffer.from([0xf4, 0x90, 0x80, 0x80])), '\udcf4\udc90\udc80\udc80', 'past U+10FFFF')
  t.is(nameFromBytes(Buffer.from([0xe2, 0x82])), '\udce2\udc82', 'a cut sequence')
  t.is(nameFromBytes(Buffer.from([0xf0, 0x9f, 0x92, 0x80, 0xff])), '💀\udcff', 'a valid 4-byte character then an invalid byte')
  t.ok(Buffer.isBuffer(fsPath('caf\udce9')) && (fsPath('caf\udce9') as Buffer).equals(Buffer.from([0x63, 0x61, 0x66, 0xe9])), 'escaped names go to fs calls as bytes')
  t.ok(nameToBytes('a\ud800b').equals(Buffer.from('a\ufffdb')), 'a lone surrogate outside the escape range (no name decodes to one) encodes as U+FFFD')
  t.is(nameByteLength('\udcff'.repeat(255)), 255, '255 escaped bytes are 255 bytes')
})
