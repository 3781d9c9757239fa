/**
 * Mount table helpers for benches that mount things. Everything here reads
 * /proc or runs umount/fusermount in child processes: never a stat of a mount.
 */
import fs from 'node:fs/promises'
import { mustSpawn, spawnAsync } from './proc.js'

export interface MountEntry { source: string, dir: string, type: string, options: string }

export async function mountTable (): Promise<MountEntry[]> {
  const text = await fs.readFile('/proc/self/mounts', 'utf8')
  return text.split('\n').filter(Boolean).map(line => {
    const [source, dir, type, options] = line.split(' ').map(unescapeMount)
    return { source, dir, type, options }
  })
}

function unescapeMount (field: string) {
  return field.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)))
}

export async function mountOf (dir: string): Promise<MountEntry | null> {
  return (await mountTable()).filter(m => m.dir === dir).pop() ?? null
}

/** Mount points at or under `dir`. */
export async function mountsUnder (dir: string): Promise<MountEntry[]> {
  return (await mountTable()).filter(m => m.dir === dir || m.dir.startsWith(dir + '/'))
}

/** Unmounts `dir` if mounted: plain first, lazily if busy (fusermount -uz for FUSE). */
export async function unmount (dir: string) {
  const entry = await mountOf(dir)
  if (entry === null) return
  const fuse = entry.type.startsWith('fuse')
  const plain = fuse ? await spawnAsync('fusermount', ['-u', dir]) : await spawnAsync('umount', [dir])
  if (plain.status === 0 && await mountOf(dir) === null) return
  await mustSpawn(fuse ? 'fusermount' : 'umount', fuse ? ['-uz', dir] : ['-l', dir])
}

/** Detaches loop devices still backed by `image` (mount -o loop normally autoclears them). */
export async function detachLoops (image: string) {
  const res = await spawnAsync('losetup', ['-j', image])
  for (const line of res.stdout.split('\n').filter(Boolean)) {
    const device = line.slice(0, line.indexOf(':'))
    await mustSpawn('losetup', ['-d', device])
  }
}
