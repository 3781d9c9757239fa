import { nameByteLength } from '../../core/index.js'
import { ManifestError } from './errors.js'
import { MAX_NAME_BYTES } from '../messages.js'

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/
const LABEL_RE = /^[A-Za-z0-9][A-Za-z0-9._:@+-]{0,127}$/

/** Workspace names: 1-64 chars of letters, digits, `.`, `_`, `-`, starting with a letter or digit. */
export function validateName (name: unknown): string {
  if (typeof name !== 'string' || name.length === 0) throw ManifestError.BAD_NAME(String(name), 'a name is required')
  if (!NAME_RE.test(name)) throw ManifestError.BAD_NAME(name, 'use 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit')
  return name
}

/** Labels of automatic snapshots (wxs exec, the snapshot timer) start so; a user's labels may not. */
export const AUTO_LABEL_PREFIX = 'auto:'

/** Snapshot labels: like names, up to 128 chars, also `:@+`; not all digits (those name commits); not `auto:` (automatic ones). */
export function validateLabel (label: unknown, opts: { auto?: boolean } = {}): string {
  if (typeof label !== 'string' || !LABEL_RE.test(label)) throw ManifestError.BAD_LABEL(String(label), 'use 1-128 letters, digits or ._:@+- starting with a letter or digit')
  if (opts.auto !== true && label.startsWith(AUTO_LABEL_PREFIX)) throw ManifestError.BAD_LABEL(label, `labels starting with "${AUTO_LABEL_PREFIX}" are reserved for automatic snapshots`)
  if (/^\d+$/.test(label)) throw ManifestError.BAD_LABEL(label, 'all-digit labels are reserved for commit numbers')
  if (label === 'head' || label === 'HEAD') throw ManifestError.BAD_LABEL(label, '"head" is reserved')
  return label
}

/** A single path component from a tree: no separators, no `.`/`..`, no NUL, bounded length. */
export function isSafeComponent (name: string): boolean {
  return name.length > 0 && name !== '.' && name !== '..' && !name.includes('/') && !name.includes('\0') &&
    nameByteLength(name) <= MAX_NAME_BYTES
}
