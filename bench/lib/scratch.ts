/** Scratch directories under the OS temp dir, removed by the owner in close(). */
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'

export class Scratch {
  readonly root: string
  private counter = 0

  private constructor (root: string) {
    this.root = root
  }

  static async create (prefix: string): Promise<Scratch> {
    return new Scratch(await fs.mkdtemp(path.join(os.tmpdir(), prefix)))
  }

  /** A fresh, not yet existing path inside the scratch root. */
  path (name: string): string {
    return path.join(this.root, `${name}-${this.counter++}`)
  }

  async remove (p: string): Promise<void> {
    await fs.rm(p, { recursive: true, force: true })
  }

  async close (): Promise<void> {
    await fs.rm(this.root, { recursive: true, force: true })
  }
}

/** Bytes allocated on disk (st_blocks * 512) by everything under `dir`. */
export async function diskUsage (dir: string): Promise<number> {
  let total = 0
  for (const d of await fs.readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, d.name)
    if (d.isDirectory()) total += await diskUsage(p)
    else total += (await fs.lstat(p)).blocks * 512
  }
  return total
}
