/**
 * Diff of two trees. Identical subtrees (same hash) are skipped without being
 * read; an added or removed directory lists the files under it.
 */
import { DIR, FILE, SYMLINK, FIFO, SOCKET, CHAR_DEVICE, type Entry } from '../messages.js'
import type { TreeStore } from './trees.js'
import { walkTree } from './walk.js'

export type ChangeKind = 'added' | 'removed' | 'modified'

export type ChangeType = 'file' | 'dir' | 'symlink' | 'fifo' | 'socket' | 'char-device' | 'block-device'

export interface Change { path: string, change: ChangeKind, type: ChangeType, oldSize: number | null, newSize: number | null }

export async function diffTrees (trees: TreeStore, from: Buffer, to: Buffer): Promise<Change[]> {
  const out: Change[] = []
  await diffInto(trees, from, to, '', out)
  return out
}

async function diffInto (trees: TreeStore, from: Buffer, to: Buffer, path: string, out: Change[]) {
  if (from.equals(to)) return
  const [a, b] = await Promise.all([trees.get(from), trees.get(to)])
  const before = new Map(a.entries.map(e => [e.name, e]))
  const after = new Map(b.entries.map(e => [e.name, e]))
  const names = [...new Set([...before.keys(), ...after.keys()])].sort()
  for (const name of names) {
    const p = path === '' ? name : path + '/' + name
    const x = before.get(name)
    const y = after.get(name)
    if (x && y && x.type === DIR && y.type === DIR) {
      if (!sameMeta(x, y)) out.push(change(p, 'modified', y, null, null))
      await diffInto(trees, x.tree!, y.tree!, p, out)
    }
    else if (x && y && x.type === y.type) { if (!sameContent(x, y)) out.push(change(p, 'modified', y, x.size, y.size)) }
    else {
      if (x) await listAll(trees, x, p, 'removed', out)
      if (y) await listAll(trees, y, p, 'added', out)
    }
  }
}

/** Mode, owner, device number and extended attributes. */
function sameMeta (x: Entry, y: Entry) {
  if (x.mode !== y.mode || x.uid !== y.uid || x.gid !== y.gid || x.rdev !== y.rdev) return false
  const a = x.xattrs ?? []
  const b = y.xattrs ?? []
  return a.length === b.length && a.every((xa, i) => xa.name === b[i].name && xa.value.equals(b[i].value))
}

function sameContent (x: Entry, y: Entry) {
  if (!sameMeta(x, y) || x.size !== y.size) return false
  if (x.type === FILE) return x.chunks.every((h, i) => h.equals(y.chunks[i]))
  return x.target === y.target
}

async function listAll (trees: TreeStore, e: Entry, p: string, kind: ChangeKind, out: Change[]) {
  if (e.type !== DIR) { out.push(change(p, kind, e, kind === 'removed' ? e.size : null, kind === 'added' ? e.size : null)); return }
  out.push(change(p, kind, e, null, null))
  await walkTree(trees, e.tree!, {
    entry (child, childPath) {
      const size = child.type === DIR ? null : child.size
      out.push(change(p + '/' + childPath, kind, child, kind === 'removed' ? size : null, kind === 'added' ? size : null))
    }
  })
}

function change (path: string, kind: ChangeKind, e: Entry, oldSize: number | null, newSize: number | null): Change {
  const type: ChangeType = e.type === FILE ? 'file' : e.type === DIR ? 'dir' : e.type === SYMLINK ? 'symlink' : e.type === FIFO ? 'fifo' : e.type === SOCKET ? 'socket' : e.type === CHAR_DEVICE ? 'char-device' : 'block-device'
  return { path, change: kind, type, oldSize, newSize }
}
