import { blake3 } from '@napi-rs/blake-hash'
import { CoreError } from './errors.js'

export const HASH_BYTES = 32
const HEX_RE = /^[0-9a-f]{64}$/

/** BLAKE3-256 of `data`. */
export function hash (data: Uint8Array): Buffer {
  return blake3(data as Buffer)
}

export function toHex (h: Uint8Array): string {
  return Buffer.from(h.buffer, h.byteOffset, h.byteLength).toString('hex')
}

export function isHex (s: unknown): s is string {
  return typeof s === 'string' && HEX_RE.test(s)
}

/** Parses a 64-char lowercase hex hash, throwing CoreError.BAD_HASH otherwise. */
export function fromHex (s: string): Buffer {
  if (!isHex(s)) throw CoreError.BAD_HASH(String(s))
  return Buffer.from(s, 'hex')
}
