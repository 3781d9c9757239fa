/**
 * A mount's audit trail (mount/messages.ts has the format): what programs did
 * in it, with the process (pid, its command, its process group) the kernel says
 * asked. A record is queued at once; the process is named from
 * /proc/<pid>/comm and getpgid(2) (or /proc/<pid>/stat without the native
 * binding): the first time a pid is seen, while its request is still
 * unanswered (a program that exits right after its one request, like mv, is
 * still there to be named); after that, right after the answer, in the same
 * turn of the event loop (a microtask), several records of one process with one
 * read, and by the name seen last if the process has ended meanwhile. Lines are
 * formatted and written in batches (every 200 ms, or at 64 KiB) through the file
 * kept open, so an operation never waits on the file.
 */
import fs from 'node:fs'
import fsp from 'node:fs/promises'
import path from 'node:path'
import { formatAuditRecord, parseAuditRecord, type AuditOp, type AuditRecord } from '../messages.js'
import { getpgidFunction } from './fuse.js'

export const DEFAULT_AUDIT_BYTES = 32 * 1024 * 1024
const FLUSH_MS = 200
const FLUSH_BYTES = 64 * 1024
/** Records queued before they are formatted into lines (else at the next flush). */
const DRAIN_RECORDS = 512
const MAX_STAT_FDS = 128

export class AuditLog {
  readonly file: string
  private readonly maxBytes: number
  /** Records not formatted into lines yet. */
  private queued: Queued[] = []
  /** Records whose process is named after the answer (nameQueued). */
  private unnamed: Queued[] = []
  private naming = false
  private draining = false
  private pending: string[] = []
  private pendingBytes = 0
  private size = -1
  private timer: NodeJS.Timeout | null = null
  private writing: Promise<void> = Promise.resolve()
  /** The file, open to append while the log is (a flush is one write, not an open, a write and a close). */
  private out: fsp.FileHandle | null = null
  /** The processes seen last: their open /proc/<pid>/comm (or stat) file and the name read last. */
  private readonly procs = new Map<number, Proc>()
  private readonly statBuf = Buffer.alloc(1024)
  /** getpgid(2), native; null: the process group comes from /proc/<pid>/stat. */
  private readonly getpgid: ((pid: number) => number) | null

  constructor (opts: { file: string, maxBytes?: number, getpgid?: ((pid: number) => number) | null }) {
    this.file = opts.file
    this.maxBytes = opts.maxBytes ?? DEFAULT_AUDIT_BYTES
    this.getpgid = opts.getpgid === undefined ? getpgidFunction() : opts.getpgid
  }

  /** Records one operation by process `pid` (of user `uid`) on `p` (the mount's path, with its leading slash). */
  record (op: AuditOp, caller: { pid: number, uid: number }, p: string, extra?: { to?: string, bytes?: number }) {
    const q: Queued = { t: Date.now(), op, pid: caller.pid, cmd: '', pgid: 0, uid: caller.uid, path: p, to: extra?.to, bytes: extra?.bytes }
    this.queued.push(q)
    if (this.procs.has(q.pid)) {
      this.unnamed.push(q)
      if (!this.naming) { this.naming = true; queueMicrotask(this.nameQueued) }
    } else {
      const proc = this.process(q.pid) // first seen: named before the answer
      q.cmd = proc.cmd
      q.pgid = proc.pgid
    }
    if (this.queued.length >= DRAIN_RECORDS) {
      if (!this.draining) { this.draining = true; setImmediate(this.drain) }
    } else if (this.timer === null) { this.timer = setTimeout(() => { this.timer = null; void this.flush() }, FLUSH_MS); this.timer.unref() }
  }

  /** Names the processes of the records made since the last call (after their answers: off the requests' path). */
  private readonly nameQueued = () => {
    this.naming = false
    const unnamed = this.unnamed
    if (unnamed.length === 0) return
    this.unnamed = []
    let pid = -1
    let proc = NO_PROC
    for (const q of unnamed) {
      if (q.pid !== pid) { pid = q.pid; proc = this.process(pid) }
      q.cmd = proc.cmd
      q.pgid = proc.pgid
    }
  }

  /** Formats the queued records into lines waiting to be written. */
  private readonly drain = () => {
    this.draining = false
    this.nameQueued()
    const queued = this.queued
    if (queued.length === 0) return
    this.queued = []
    for (const q of queued) {
      const r: AuditRecord = { t: q.t, op: q.op, pid: q.pid, cmd: q.cmd, pgid: q.pgid, uid: q.uid, path: rel(q.path) }
      if (q.to !== undefined) r.to = rel(q.to)
      if (q.bytes !== undefined) r.bytes = q.bytes
      const line = formatAuditRecord(r)
      this.pending.push(line)
      this.pendingBytes += line.length
    }
    if (this.pendingBytes >= FLUSH_BYTES) void this.flush()
    else if (this.timer === null) { this.timer = setTimeout(() => { this.timer = null; void this.flush() }, FLUSH_MS); this.timer.unref() }
  }

  /** Writes what is pending; resolves when it is in the file (a failed write is dropped and logged by the caller's log). */
  flush (): Promise<void> {
    this.drain()
    if (this.timer !== null) { clearTimeout(this.timer); this.timer = null }
    if (this.pending.length === 0) return this.writing
    const text = this.pending.join('')
    this.pending = []
    this.pendingBytes = 0
    this.writing = this.writing.then(() => this.append(text)).catch(() => {})
    return this.writing
  }

  async close () {
    await this.flush()
    await this.out?.close().catch(() => {})
    this.out = null
    for (const pid of [...this.procs.keys()]) this.forget(pid)
  }

  private async append (text: string) {
    try {
      if (this.out === null) await this.open()
      if (this.size > 0 && this.size + text.length > this.maxBytes / 2) {
        await this.out!.close()
        this.out = null
        await fsp.rename(this.file, this.file + '.1').catch(() => {})
        await this.open()
      }
      await this.out!.write(text)
      this.size += Buffer.byteLength(text)
    } catch (err) {
      await this.out?.close().catch(() => {}) // opened again at the next flush
      this.out = null
      throw err
    }
  }

  private async open () {
    await fsp.mkdir(path.dirname(this.file), { recursive: true, mode: 0o700 })
    this.out = await fsp.open(this.file, 'a', 0o600)
    this.size = (await this.out.stat()).size
  }

  /**
   * The command and process group of `pid` now (a process that exec()s keeps
   * its pid and changes its command: `sh -c 'rm x'` runs rm as the shell's
   * pid): the command from /proc/<pid>/comm and the group from getpgid(2), or
   * both from /proc/<pid>/stat without the native getpgid. The file stays open
   * per pid: a pread of comm costs ~1.1 us, of stat ~4.4 us (for another
   * process ~7.6 us in the daemon), opening either again ~28 us (measured).
   * Once the process is gone the read fails (ESRCH): its records made before
   * get the name read last; a reused pid gets a new file.
   */
  private process (pid: number): { cmd: string, pgid: number } {
    const getpgid = this.getpgid
    let last = NO_PROC
    for (let attempt = 0; attempt < 2; attempt++) {
      let proc = this.procs.get(pid)
      if (proc === undefined) {
        let fd: number
        try { fd = fs.openSync(`/proc/${pid}/${getpgid === null ? 'stat' : 'comm'}`, 'r') } catch { return last } // gone
        if (this.procs.size >= MAX_STAT_FDS) this.forget(this.procs.keys().next().value!)
        proc = { fd, cmd: '', pgid: 0 }
        this.procs.set(pid, proc)
      }
      try {
        const n = fs.readSync(proc.fd, this.statBuf, 0, this.statBuf.byteLength, 0)
        if (getpgid === null) {
          const named = parseStat(this.statBuf, n)
          proc.cmd = named.cmd
          proc.pgid = named.pgid
        } else {
          const pgid = getpgid(pid)
          proc.cmd = this.statBuf.toString('latin1', 0, n > 0 && this.statBuf[n - 1] === 0x0a ? n - 1 : n)
          proc.pgid = pgid < 0 ? 0 : pgid
        }
        return proc
      } catch {
        if (proc.cmd !== '') last = { cmd: proc.cmd, pgid: proc.pgid }
        this.forget(pid)
      }
    }
    return last
  }

  private forget (pid: number) {
    const proc = this.procs.get(pid)
    this.procs.delete(pid)
    if (proc !== undefined) try { fs.closeSync(proc.fd) } catch {}
  }
}

/** The command and process group from /proc/<pid>/stat's first n bytes ("pid (comm) state ppid pgrp ..."), read in place. */
export function parseStat (buf: Buffer, n: number): { cmd: string, pgid: number } {
  let close = n - 1
  while (close > 0 && buf[close] !== 0x29) close-- // the last ')': comm may hold any byte
  const open = buf.indexOf(0x28)
  let i = close + 2
  for (let spaces = 0; i < n && spaces < 2; i++) if (buf[i] === 0x20) spaces++ // past state and ppid
  let pgid = 0
  for (; i < n && buf[i] >= 0x30 && buf[i] <= 0x39; i++) pgid = pgid * 10 + buf[i] - 0x30
  return { cmd: open < 0 || close <= open ? '' : buf.toString('latin1', open + 1, close), pgid }
}

/** A process the trail has seen: its /proc file, open, and what it was named last. */
interface Proc { fd: number, cmd: string, pgid: number }
const NO_PROC: { cmd: string, pgid: number } = { cmd: '', pgid: 0 }

interface Queued { t: number, op: AuditOp, pid: number, cmd: string, pgid: number, uid: number, path: string, to: string | undefined, bytes: number | undefined }

function rel (p: string) {
  return p.startsWith('/') ? p.slice(1) : p
}

export interface AuditQuery { since?: number, until?: number, glob?: string, pid?: number, pgid?: number, limit?: number }

/** Records of an audit file (and the one it rotated to), oldest first, filtered. */
export async function readAudit (file: string, q: AuditQuery = {}): Promise<AuditRecord[]> {
  const match = q.glob === undefined ? null : globToRegExp(q.glob)
  const out: AuditRecord[] = []
  for (const f of [file + '.1', file]) {
    const text = await fsp.readFile(f, 'utf8').catch(() => '')
    for (const line of text.split('\n')) {
      if (line === '') continue
      const r = parseAuditRecord(line)
      if (r === null) continue
      if (q.since !== undefined && r.t < q.since) continue
      if (q.until !== undefined && r.t > q.until) continue
      if (q.pid !== undefined && r.pid !== q.pid) continue
      if (q.pgid !== undefined && r.pgid !== q.pgid) continue
      if (match !== null && !match.test(r.path) && !(r.to !== undefined && match.test(r.to))) continue
      out.push(r)
    }
  }
  return q.limit !== undefined && out.length > q.limit ? out.slice(out.length - q.limit) : out
}

/** The ops whose paths make a working set (what a program used, not what it removed). */
const USED_OPS = new Set<AuditOp>(['read', 'write', 'create'])
/** How much of the end of an audit file a working set is looked for in. */
const RECENT_TAIL_BYTES = 4 * 1024 * 1024

/**
 * The paths read, written or created most recently according to an audit
 * file (and the one it rotated to), newest first, each once, at most `max`,
 * with the mount's leading slash: the working set of a workspace that is not
 * mounted now (a pause after `wxs exec`, or after the daemon restarted).
 * Only the files' last few MiB are read.
 */
export async function recentPaths (file: string, max: number): Promise<string[]> {
  const out = new Set<string>()
  for (const f of [file, file + '.1']) {
    const fh = await fsp.open(f, 'r').catch(() => null)
    if (fh === null) continue
    try {
      const size = (await fh.stat()).size
      const start = Math.max(0, size - RECENT_TAIL_BYTES)
      const buf = Buffer.alloc(size - start)
      await fh.read(buf, 0, buf.length, start)
      const lines = buf.toString('utf8').split('\n')
      if (start > 0) lines.shift() // cut at the tail's start
      for (let i = lines.length - 1; i >= 0 && out.size < max; i--) {
        const r = lines[i] === '' ? null : parseAuditRecord(lines[i])
        if (r !== null && USED_OPS.has(r.op)) out.add('/' + r.path)
      }
      if (out.size >= max || start > 0) break
    } finally {
      await fh.close()
    }
  }
  return [...out]
}

/** A glob as shells and .gitignore read it: `*` and `?` within a name, `**` across names. */
export function globToRegExp (glob: string): RegExp {
  let re = ''
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i]
    if (ch === '*' && glob[i + 1] === '*' && glob[i + 2] === '/') { re += '(?:.*/)?'; i += 2 } else if (ch === '*' && glob[i + 1] === '*') { re += '.*'; i++ } else if (ch === '*') re += '[^/]*'
    else if (ch === '?') re += '[^/]'
    else re += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&')
  }
  return new RegExp(`^${re}$`)
}
