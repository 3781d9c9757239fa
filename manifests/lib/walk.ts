import { toHex } from '../../core/index.js'
import { DIR, type Entry } from '../messages.js'
import type { TreeStore } from './trees.js'

export interface WalkVisitor {
  /** Called for each tree before its entries; return false to skip it (already visited). */
  tree? (hex: string, path: string): boolean | Promise<boolean>
  entry? (entry: Entry, path: string): void | Promise<void>
  /** Called when a tree cannot be loaded; the walk goes on without it. */
  missing? (hex: string, path: string, err: unknown): void
  /** Only trees already in the local store: never wait on the network. */
  local?: boolean
}

/** Depth-first walk of a tree. Paths are relative, '/'-separated; the root is ''. */
export async function walkTree (trees: TreeStore, root: Buffer, visitor: WalkVisitor, path = ''): Promise<void> {
  const hex = toHex(root)
  if (visitor.tree && !(await visitor.tree(hex, path))) return
  let t
  try {
    t = await trees.get(hex, { local: visitor.local })
  } catch (err) {
    if (!visitor.missing) throw err
    visitor.missing(hex, path, err)
    return
  }
  for (const e of t.entries) {
    const p = path === '' ? e.name : path + '/' + e.name
    await visitor.entry?.(e, p)
    if (e.type === DIR) await walkTree(trees, e.tree!, visitor, p)
  }
}
