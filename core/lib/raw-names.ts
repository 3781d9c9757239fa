/**
 * File names and symlink targets are bytes (any byte but NUL, and `/` in a
 * name); wxs holds them as JavaScript strings. Valid UTF-8 decodes as usual;
 * each byte that is not part of valid UTF-8 becomes a lone surrogate
 * U+DC80..U+DCFF, and encoding turns such a surrogate back into its byte
 * (Python's "surrogateescape", PEP 383). So bytes -> string -> bytes is the
 * identity for every name, and names that are valid UTF-8 (nearly all) are
 * the strings they always were. The mount's binding (mount/native) does the
 * same in C for the paths the kernel gives and the names it takes back.
 */

const ESCAPE_BASE = 0xdc00

/** Whether `s` is a plain Unicode string (no lone surrogates): its bytes are its UTF-8. */
export function isPlainName (s: string): boolean {
  return (s as string & { isWellFormed (): boolean }).isWellFormed()
}

/** The string a name's bytes stand for (see the file's comment). */
export function nameFromBytes (b: Uint8Array): string {
  const buf = Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength)
  const s = buf.toString('utf8')
  // U+FFFD in the result means invalid bytes, or a real U+FFFD (EF BF BD): tell them apart
  if (!s.includes('\ufffd') || Buffer.byteLength(s) === buf.byteLength && Buffer.from(s).equals(buf)) return s
  return decodeEscaped(buf)
}

/** The bytes a name stands for: its UTF-8, with each escaped byte given back. */
export function nameToBytes (s: string): Buffer {
  if (isPlainName(s)) return Buffer.from(s)
  const out: number[] = []
  for (let i = 0; i < s.length; i++) {
    const u = s.charCodeAt(i)
    if (u >= 0xdc80 && u <= 0xdcff) { out.push(u - ESCAPE_BASE); continue }
    const cp = s.codePointAt(i)!
    if (cp > 0xffff) i++
    for (const byte of Buffer.from(String.fromCodePoint(cp))) out.push(byte)
  }
  return Buffer.from(out)
}

/** How many bytes a name is (ENAMETOOLONG past 255). */
export function nameByteLength (s: string): number {
  return isPlainName(s) ? Buffer.byteLength(s) : nameToBytes(s).byteLength
}

/** A path for Node's fs calls: the string itself when it is plain, else its bytes. */
export function fsPath (s: string): string | Buffer {
  return isPlainName(s) ? s : nameToBytes(s)
}

/** Strict UTF-8 (no overlongs, no surrogates, at most U+10FFFF): length of the sequence at i, or 0. */
function sequenceAt (b: Buffer, i: number): number {
  const c = b[i]
  const n = b.byteLength - i
  const cont = (k: number) => (b[i + k] & 0xc0) === 0x80
  if (c < 0x80) return 1
  if (c >= 0xc2 && c <= 0xdf) return n >= 2 && cont(1) ? 2 : 0
  if (c >= 0xe0 && c <= 0xef) {
    if (n < 3 || !cont(1) || !cont(2)) return 0
    if (c === 0xe0 && b[i + 1] < 0xa0) return 0
    if (c === 0xed && b[i + 1] > 0x9f) return 0
    return 3
  }
  if (c >= 0xf0 && c <= 0xf4) {
    if (n < 4 || !cont(1) || !cont(2) || !cont(3)) return 0
    if (c === 0xf0 && b[i + 1] < 0x90) return 0
    if (c === 0xf4 && b[i + 1] > 0x8f) return 0
    return 4
  }
  return 0
}

function decodeEscaped (b: Buffer): string {
  let out = ''
  for (let i = 0; i < b.byteLength;) {
    const k = sequenceAt(b, i)
    if (k === 0) { out += String.fromCharCode(ESCAPE_BASE + b[i]); i++; continue }
    out += b.toString('utf8', i, i + k)
    i += k
  }
  return out
}
