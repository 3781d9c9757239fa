/**
 * Loads the FUSE binding (mount/native, built by `npm run build:native`):
 * libfuse 3's low-level one, or with WXS_FUSE=hl the patched fuse-native one
 * (libfuse 2), and checks what mounting needs, with errors that say how to fix
 * what is missing.
 */
import fs from 'node:fs'
import path from 'node:path'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { MountError } from './errors.js'
import { FuseLL } from './fuse-ll.js'

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

/**
 * Which binding serves mounts: `ll`, libfuse 3's low-level, inode-based API
 * (fuse-ll.ts, the default), or `hl`, libfuse 2's path-based one through the
 * patched fuse-native binding (WXS_FUSE=hl; it has the gaps README names).
 */
export function fuseBinding (): 'hl' | 'll' {
  return process.env.WXS_FUSE === 'hl' ? 'hl' : 'll'
}

/** Returns the Fuse class, or throws FUSE_UNAVAILABLE naming the missing piece. */
export function loadFuse (): FuseClass {
  if (loaded) return loaded
  checkDevice()
  loaded = fuseBinding() === 'll' ? loadLowLevel() : loadHighLevel()
  return loaded
}

function checkDevice () {
  if (!fs.existsSync('/dev/fuse')) throw MountError.FUSE_UNAVAILABLE('/dev/fuse does not exist (load the fuse kernel module, or give the container --device /dev/fuse)')
  try {
    fs.accessSync('/dev/fuse', fs.constants.R_OK | fs.constants.W_OK)
  } catch {
    throw MountError.FUSE_UNAVAILABLE('no permission to open /dev/fuse (run as root or add your user to the fuse group)')
  }
}

function loadHighLevel (): FuseClass {
  try {
    return require(path.join(nativeDir(), 'index.cjs')) as FuseClass
  } catch (err) {
    throw unavailable(err, 'libfuse.so.2', 'fuse libfuse2')
  }
}

function loadLowLevel (): FuseClass {
  const dir = nativeDir()
  try {
    require(path.join(dir, 'build/Release/fuse_ll.node'))
  } catch (err) {
    throw unavailable(err, 'libfuse3.so.3', 'libfuse3-3')
  }
  return class extends FuseLL {
    constructor (mnt: string, ops: object, opts: object) { super(mnt, ops as ConstructorParameters<typeof FuseLL>[1], opts, dir) }
  }
}

/**
 * getpgid(2) from the low-level binding (built with the other, whichever
 * serves mounts), for the audit trail; null when it does not load (the audit
 * trail then reads /proc/<pid>/stat).
 */
export function getpgidFunction (): ((pid: number) => number) | null {
  try {
    return (require(path.join(nativeDir(), 'build/Release/fuse_ll.node')) as { getpgid (pid: number): number }).getpgid
  } catch {
    return null
  }
}

function unavailable (err: unknown, lib: string, packages: string) {
  const msg = String((err as Error).message)
  if (msg.includes(lib)) return MountError.FUSE_UNAVAILABLE(`${lib} is not installed (apt-get install -y ${packages}, or run: bash .ci/setup)`)
  if (err instanceof MountError) return err
  return MountError.FUSE_UNAVAILABLE(`the FUSE binding did not load (${msg.split('\n')[0]}); rebuild it with: npm run build:native`)
}
