/**
 * Synthetic source trees: small files of random (incompressible, never
 * duplicated) content, ~perDir files per directory, directories grouped
 * 32 to a parent so no directory gets huge.
 */
import fs from 'node:fs/promises'
import path from 'node:path'
import { randomBytes, randomInt } from 'node:crypto'

export interface TreeOptions { files: number, perDir?: number, minBytes?: number, maxBytes?: number, concurrency?: number }

export interface GeneratedTree { dir: string, files: string[], bytes: number }

const DIRS_PER_GROUP = 32

/** Writes a tree of `files` random files under `dir` (created). */
export async function generateTree (dir: string, opts: TreeOptions): Promise<GeneratedTree> {
  const perDir = opts.perDir ?? 100
  const dirs = Math.ceil(opts.files / perDir)
  const out: GeneratedTree = { dir, files: [], bytes: 0 }
  const jobs: Array<() => Promise<void>> = []
  for (let d = 0; d < dirs; d++) {
    const count = Math.min(perDir, opts.files - d * perDir)
    jobs.push(() => writeDir(out, dirPath(d), count, opts))
  }
  await runAll(jobs, opts.concurrency ?? 8)
  return out
}

function dirPath (d: number) {
  return path.join(`g${String(Math.floor(d / DIRS_PER_GROUP)).padStart(3, '0')}`, `d${String(d % DIRS_PER_GROUP).padStart(2, '0')}`)
}

async function writeDir (tree: GeneratedTree, rel: string, count: number, opts: TreeOptions) {
  await fs.mkdir(path.join(tree.dir, rel), { recursive: true })
  const sizes = Array.from({ length: count }, () => randomInt(opts.minBytes ?? 100, (opts.maxBytes ?? 8192) + 1))
  const pool = randomBytes(sizes.reduce((a, b) => a + b, 0))
  let at = 0
  for (let i = 0; i < count; i++) {
    const file = path.join(rel, `f${String(i).padStart(3, '0')}.bin`)
    await fs.writeFile(path.join(tree.dir, file), pool.subarray(at, at + sizes[i]))
    at += sizes[i]
    tree.files.push(file)
    tree.bytes += sizes[i]
  }
}

/** Rewrites each file with new random content of the same size; returns bytes written. */
export async function rewriteFiles (dir: string, files: string[]): Promise<number> {
  let bytes = 0
  for (const file of files) {
    const abs = path.join(dir, file)
    const { size } = await fs.stat(abs)
    await fs.writeFile(abs, randomBytes(size))
    bytes += size
  }
  return bytes
}

export interface LargeFileOptions { files: number, fileBytes: number, pieceBytes?: number }

/** Writes large random files in pieces; returns the pieces (kept for in-memory baselines). */
export async function generateLargeFiles (dir: string, opts: LargeFileOptions): Promise<Buffer[]> {
  const pieceBytes = opts.pieceBytes ?? 64 * 1024 * 1024
  const pieces: Buffer[] = []
  await fs.mkdir(dir, { recursive: true })
  for (let f = 0; f < opts.files; f++) {
    const handle = await fs.open(path.join(dir, `large-${f}.bin`), 'w')
    try {
      for (let at = 0; at < opts.fileBytes; at += pieceBytes) {
        const piece = randomBytes(Math.min(pieceBytes, opts.fileBytes - at))
        await handle.write(piece, 0, piece.byteLength, at)
        pieces.push(piece)
      }
    } finally {
      await handle.close()
    }
  }
  return pieces
}

/** Runs jobs with at most `max` in flight. */
async function runAll (jobs: Array<() => Promise<void>>, max: number) {
  let next = 0
  const worker = async () => { while (next < jobs.length) await jobs[next++]() }
  await Promise.all(Array.from({ length: Math.min(max, jobs.length) }, worker))
}
