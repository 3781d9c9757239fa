/**
 * Moving the writer role: a pause appends a signed record to the holder's log;
 * a resume starts a new log on the next machine whose manifest prologue is the
 * old log through that record (so history reads through, verifiably), and
 * whose first value is a continuation signed with the pause's one-time handoff
 * key. The secret key of a log never leaves the machine that made it.
 *
 * Handoff secrets are kept in `$WXS_HOME/handoffs/<log key>-<hop>` (mode 0600,
 * written durably before the pause record is appended), so pausing twice
 * returns the same link, and a crash between the two leaves no record.
 */
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { randomBytes } from 'node:crypto'
import crypto from 'hypercore-crypto'
import type Hypercore from 'hypercore'
import { crashPoint, toHex, writeFileDurable } from '../../core/index.js'
import { MAX_META_ENTRIES, MAX_NOTE_BYTES, MAX_WORKING_SET, MAX_WORKING_SET_BYTES, continuationSignable, type Continuation, type PauseRecord } from '../messages.js'
import { ManifestError } from './errors.js'
import type { Move, Workspace } from './workspace.js'

export interface PauseOptions {
  workingSet?: string[]
  mountDir?: string | null
  note?: string
  meta?: Array<{ key: string, value: string }>
  holder?: string
}

export interface PauseOutcome { move: Move, secret: Buffer, created: boolean }

/** Who holds a workspace, as shown in lineages (never trusted for anything). */
export function holderName (env = process.env) {
  return env.WXS_HOLDER || os.hostname()
}

export class Handoffs {
  readonly dir: string
  constructor (home: string) { this.dir = path.join(home, 'handoffs') }

  private file (key: Buffer, hop: number) { return path.join(this.dir, `${toHex(key)}-${hop}`) }

  async read (key: Buffer, hop: number): Promise<Buffer | null> {
    const text = await fs.readFile(this.file(key, hop), 'utf8').catch(() => null)
    return text !== null && /^[0-9a-f]{64}$/.test(text.trim()) ? Buffer.from(text.trim(), 'hex') : null
  }

  async write (key: Buffer, hop: number, secret: Buffer) {
    await fs.mkdir(this.dir, { recursive: true, mode: 0o700 })
    await writeFileDurable(this.file(key, hop), Buffer.from(toHex(secret)))
    await fs.chmod(this.file(key, hop), 0o600)
  }
}

/** Pauses `ws` at its head (the caller has quiesced and committed any mount). Idempotent. */
export async function pauseWorkspace (ws: Workspace, handoffs: Handoffs, opts: PauseOptions = {}): Promise<PauseOutcome> {
  if (ws.remote) throw ManifestError.NOT_WRITER(ws.name)
  const open = ws.pausedMove
  if (open !== null) {
    const secret = await handoffs.read(ws.key, open.hop)
    if (secret === null) throw ManifestError.MISSING_OBJECTS(`${ws.name} is paused but this machine has lost its handoff secret (${handoffs.dir})`)
    return { move: open, secret, created: false }
  }
  const hop = ws.moves.length
  // the secret is on disk before the record that needs it exists
  const secret = await handoffs.read(ws.key, hop) ?? randomBytes(32)
  await handoffs.write(ws.key, hop, secret)
  crashPoint('pause:secret')
  const head = ws.head!
  const record: PauseRecord = {
    hop,
    commit: head.seq,
    root: head.root,
    handoffKey: crypto.keyPair(secret).publicKey,
    time: Date.now(),
    holder: opts.holder ?? holderName(),
    mountDir: opts.mountDir ?? '',
    workingSet: boundWorkingSet(opts.workingSet ?? []),
    note: checkNote(opts.note ?? ''),
    meta: checkMeta(opts.meta ?? [])
  }
  const move = await ws.appendPause(record)
  crashPoint('pause:recorded')
  return { move, secret, created: true }
}

/** The public half of a handoff secret matches the pause (else the link cannot resume it). */
export function secretMatches (move: Move, secret: Buffer): boolean {
  return secret.byteLength === 32 && crypto.keyPair(secret).publicKey.equals(move.pause.handoffKey)
}

/**
 * Makes the next holder's log: a core whose manifest pins `source` through its
 * pause record as a prologue, filled with those blocks, then the continuation.
 * `keyPair` is this machine's (Corestore-derived) signer for the new log.
 */
export async function continueLog (opts: { source: Workspace, secret: Buffer, open: (manifest: object) => Hypercore, holder?: string }): Promise<{ core: Hypercore, continuation: Continuation, prologueMs: number }> {
  const { source, secret } = opts
  const move = source.pausedMove
  if (move === null) throw ManifestError.NOT_PAUSED(source.name)
  if (!secretMatches(move, secret)) throw ManifestError.HANDOFF_MISMATCH(source.name)
  const length = source.core.length
  const started = performance.now()
  const hash = await source.core.treeHash(length)
  const core = opts.open({ prologue: { hash, length } })
  await core.ready()
  if (core.length < length) await (core as any).core.copyPrologue((source.core as any).state)
  if (core.length < length) throw ManifestError.MISSING_OBJECTS(`the paused log has ${length} blocks but only ${core.length} could be copied`)
  const prologueMs = performance.now() - started
  const body = { hop: move.hop, previousKey: source.key, previousLength: length }
  const signature = crypto.sign(continuationSignable(core.key, body, move.pauseBytes), crypto.keyPair(secret).secretKey)
  const continuation: Continuation = { ...body, time: Date.now(), holder: opts.holder ?? holderName(), signature }
  return { core, continuation, prologueMs }
}

/**
 * Checks that `next` continues `prev`: its manifest's prologue is `prev`
 * through the pause (same Merkle root), and the pause's handoff key signed its
 * continuation. Returns the continuation, or null with nothing trusted.
 */
export async function verifyContinuation (prev: Workspace, next: Workspace): Promise<Continuation | null> {
  const prologue = (next.core as any).manifest?.prologue as { hash: Buffer, length: number } | null | undefined
  if (!prologue || prologue.length === 0 || prologue.length > prev.core.length) return null
  const move = next.moves.find(m => m.continuation !== null && m.continuation.previousKey.equals(prev.key) && m.continuation.previousLength === prologue.length)
  if (!move) return null
  // the pause must be the previous holder's own record, read from its log (signed by
  // it), not one the new log appended after the prologue with a key of its choosing
  const paused = prev.moves.find(m => m.hop === move.hop)
  if (!paused || !paused.pauseBytes.equals(move.pauseBytes)) return null
  const hash = await prev.core.treeHash(prologue.length).catch(() => null)
  if (hash === null || !Buffer.from(hash).equals(prologue.hash)) return null
  const cont = move.continuation!
  const signable = continuationSignable(next.key, cont, paused.pauseBytes)
  return crypto.verify(signable, cont.signature, paused.pause.handoffKey) ? cont : null
}

function boundWorkingSet (paths: string[]): string[] {
  const out: string[] = []
  let bytes = 0
  for (const p of paths) {
    if (out.length >= MAX_WORKING_SET) break
    bytes += Buffer.byteLength(p)
    if (bytes > MAX_WORKING_SET_BYTES) break
    out.push(p)
  }
  return out
}

function checkNote (note: string): string {
  if (Buffer.byteLength(note) > MAX_NOTE_BYTES) throw ManifestError.INVALID_ARGUMENT(`--note is longer than ${MAX_NOTE_BYTES} bytes`)
  return note
}

function checkMeta (meta: Array<{ key: string, value: string }>) {
  if (meta.length > MAX_META_ENTRIES) throw ManifestError.INVALID_ARGUMENT(`at most ${MAX_META_ENTRIES} --meta entries`)
  for (const { key } of meta) if (!/^[A-Za-z0-9_.-]{1,64}$/.test(key)) throw ManifestError.INVALID_ARGUMENT(`--meta key ${JSON.stringify(key)}: use 1-64 of A-Z a-z 0-9 . _ -`)
  const size = meta.reduce((n, m) => n + Buffer.byteLength(m.key) + Buffer.byteLength(m.value), 0)
  if (size > MAX_NOTE_BYTES) throw ManifestError.INVALID_ARGUMENT(`--meta values are longer than ${MAX_NOTE_BYTES} bytes in all`)
  return meta
}
