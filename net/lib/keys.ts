/**
 * Workspace keys as users type them (`wxs join <key>[@<snapshot>]`), and
 * bootstrap lists (`host:port,…`).
 */
import { decode as decodeId } from 'hypercore-id-encoding'
import { validateLabel } from '../../manifests/index.js'
import { NetError } from './errors.js'
import { decodeResumeLink, type ResumeLink } from '../messages.js'

export interface JoinTarget { key: Buffer, pin: string | null }

export function parseKey (input: string): Buffer {
  const s = input.trim()
  if (s.length === 0) throw NetError.BAD_KEY(input, 'it is empty')
  if (/^[0-9a-fA-F]+$/.test(s) && s.length !== 64) throw NetError.BAD_KEY(input, `${s.length} hex characters`)
  let key: Buffer
  try {
    key = decodeId(s)
  } catch {
    throw NetError.BAD_KEY(input, 'not hex nor z-base-32')
  }
  if (key.byteLength !== 32) throw NetError.BAD_KEY(input, `it decodes to ${key.byteLength} bytes, not 32`)
  return key
}

/** `<key>` or `<key>@<snapshot label>`. */
export function parseJoinTarget (input: string): JoinTarget {
  const at = input.indexOf('@')
  if (at === -1) return { key: parseKey(input), pin: null }
  const label = input.slice(at + 1)
  try {
    validateLabel(label)
  } catch (err) {
    throw NetError.BAD_KEY(input, `after "@": ${(err as Error).message}`)
  }
  return { key: parseKey(input.slice(0, at)), pin: label }
}

/** A resume link (`wxsr1-…`); a bare key is NOT_RESUMABLE, anything else BAD_LINK. */
export function parseResumeLink (input: string): ResumeLink {
  const s = input.trim()
  if (/^[0-9a-fA-F]{64}$/.test(s) || /^[13-9a-km-uw-z]{52}$/.test(s)) throw NetError.NOT_RESUMABLE('that is a workspace key, not a resume link')
  try {
    return decodeResumeLink(s)
  } catch (err) {
    throw NetError.BAD_LINK(input, (err as Error).message)
  }
}

export interface HostPort { host: string, port: number }

export function parseBootstrap (input: string): HostPort[] {
  const out: HostPort[] = []
  for (const part of input.split(',').map(p => p.trim()).filter(Boolean)) {
    const m = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(part)
    if (!m) throw NetError.BAD_BOOTSTRAP(part, 'missing or malformed port')
    const port = Number(m[2])
    if (port < 1 || port > 65535) throw NetError.BAD_BOOTSTRAP(part, 'port out of range')
    out.push({ host: m[1].replace(/^\[|\]$/g, ''), port })
  }
  if (out.length === 0) throw NetError.BAD_BOOTSTRAP(input, 'empty list')
  return out
}

/** The inverse of parseBootstrap: IPv6 hosts go in brackets, or `::1:49737` would not parse back. */
export function formatBootstrap (list: HostPort[]): string {
  return list.map(b => `${b.host.includes(':') ? `[${b.host}]` : b.host}:${b.port}`).join(',')
}

export const isLoopback = (host: string) => host === 'localhost' || host.startsWith('127.') || host === '::1'

/** A peer id or a prefix of one (8 to 64 hex characters, as `wxs peers` prints), lower-cased; BAD_PEER otherwise. */
export function checkPeerId (input: string): string {
  const id = input.trim().toLowerCase()
  if (!/^[0-9a-f]{8,64}$/.test(id)) throw NetError.BAD_PEER(input)
  return id
}
