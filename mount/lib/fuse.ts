/**
 * Loads the patched fuse-native binding (mount/native, built by
 * `npm run build:native`) and checks what mounting needs, with errors that say
 * how to fix what is missing.
 */
import fs from 'node:fs'
import path from 'node:path'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { MountError } from './errors.js'

const require = createRequire(import.meta.url)

function nativeDir () {
  // Works from the sources (mount/lib) and from the build (dist/mount/lib).
  const here = path.dirname(fileURLToPath(import.meta.url))
  for (const dir of [path.resolve(here, '../native'), path.resolve(here, '../../../mount/native')]) {
    if (fs.existsSync(path.join(dir, 'index.cjs'))) return dir
  }
  throw MountError.FUSE_UNAVAILABLE('the FUSE binding (mount/native) is missing from this install')
}

export interface FuseInstance {
  mount (cb: (err: Error | null) => void): void
  unmount (cb: (err: Error | null) => void): void
}
export type FuseClass = new (mnt: string, ops: object, opts: object) => FuseInstance

let loaded: FuseClass | null = null

/** Returns the Fuse class, or throws FUSE_UNAVAILABLE naming the missing piece. */
export function loadFuse (): FuseClass {
  if (loaded) return loaded
  if (!fs.existsSync('/dev/fuse')) throw MountError.FUSE_UNAVAILABLE('/dev/fuse does not exist (load the fuse kernel module, or give the container --device /dev/fuse)')
  try {
    fs.accessSync('/dev/fuse', fs.constants.R_OK | fs.constants.W_OK)
  } catch {
    throw MountError.FUSE_UNAVAILABLE('no permission to open /dev/fuse (run as root or add your user to the fuse group)')
  }
  try {
    loaded = require(path.join(nativeDir(), 'index.cjs')) as FuseClass
  } catch (err) {
    const msg = String((err as Error).message)
    if (msg.includes('libfuse.so.2')) throw MountError.FUSE_UNAVAILABLE('libfuse.so.2 is not installed (apt-get install -y fuse libfuse2, or run: bash .ci/setup)')
    if (err instanceof MountError) throw err
    throw MountError.FUSE_UNAVAILABLE(`the FUSE binding did not load (${msg.split('\n')[0]}); rebuild it with: npm run build:native`)
  }
  return loaded
}
