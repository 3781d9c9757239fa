/**
 * JSON merge patches (RFC 7386), both ways: diff() gives the patch that turns
 * one JSON value into another, apply() applies one. Objects merge key by key
 * (a removed key is `null` in the patch); arrays and everything else are
 * replaced whole. A consequence of the format: a `null` value in an object
 * cannot be sent (it means "remove"), so in a patched value an absent key and
 * a null one are the same thing.
 */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json }

const isObject = (v: unknown): v is Record<string, Json> => v !== null && typeof v === 'object' && !Array.isArray(v)

/** The patch from `prev` to `next`, or undefined when they are equal. */
export function diff (prev: Json | undefined, next: Json): Json | undefined {
  if (!isObject(prev) || !isObject(next)) return equal(prev, next) ? undefined : next
  const out: Record<string, Json> = {}
  let changed = false
  for (const key of Object.keys(prev)) {
    if (!(key in next) || next[key] === null) {
      if (prev[key] !== null) { out[key] = null; changed = true }
    }
  }
  for (const [key, value] of Object.entries(next)) {
    if (value === null) continue
    const d = isObject(prev[key]) && isObject(value) ? diff(prev[key], value) : isObject(value) ? withoutNulls(value) : equal(prev[key], value) ? undefined : value
    if (d !== undefined) { out[key] = d; changed = true }
  }
  return changed ? out : undefined
}

/** `target` with `patch` applied (a new value; `target` is not changed). */
export function apply (target: Json | undefined, patch: Json): Json {
  if (!isObject(patch)) return patch
  const out: Record<string, Json> = isObject(target) ? { ...target } : {}
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key]
    else out[key] = apply(out[key], value)
  }
  return out
}

/** A new object as a patch: its null members mean nothing there, so they are left out. */
function withoutNulls (v: Record<string, Json>): Record<string, Json> {
  const out: Record<string, Json> = {}
  for (const [k, x] of Object.entries(v)) if (x !== null) out[k] = isObject(x) ? withoutNulls(x) : x
  return out
}

function equal (a: Json | undefined, b: Json | undefined): boolean {
  if (a === b) return true
  if (a === undefined || b === undefined || a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false
  if (Array.isArray(a) !== Array.isArray(b)) return false
  if (Array.isArray(a)) return a.length === (b as Json[]).length && a.every((x, i) => equal(x, (b as Json[])[i]))
  const ka = Object.keys(a)
  const kb = Object.keys(b as object)
  return ka.length === kb.length && ka.every(k => equal((a as any)[k], (b as any)[k]))
}
