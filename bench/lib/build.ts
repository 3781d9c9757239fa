/**
 * What every multi-daemon bench does first and last: make sure dist/ (which
 * cli/wxs.js runs) is not older than the sources, and remove its scratch dir
 * unless something is still mounted in it.
 */
import { existsSync, statSync } from 'node:fs'
import fs from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { mountsUnder } from './mounts.js'
import { childEnv, spawnAsync } from './proc.js'
import type { Scratch } from './scratch.js'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')

/** cli/wxs.js runs dist/ when it exists: rebuild it when a source is newer (others edit this checkout). */
export async function ensureBuild (build: boolean, log: (line: string) => void): Promise<string> {
  const main = path.join(ROOT, 'dist', 'cli', 'main.js')
  const builtAt = existsSync(main) ? statSync(main).mtimeMs : 0
  const newer = builtAt === 0 ? ['(no dist)'] : await newerSources(builtAt)
  if (newer.length === 0) return 'dist build (fresh)'
  if (!build) { log(`[bench] warning: dist/ is older than ${newer.slice(0, 5).join(', ')}; running it anyway (--no-build)`); return 'dist build (stale, --no-build)' }
  log(`[bench] dist/ is older than ${newer.slice(0, 3).join(', ')}${newer.length > 3 ? '…' : ''}: running tsc`)
  const res = await spawnAsync(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', path.join(ROOT, 'tsconfig.json')], { cwd: ROOT, env: childEnv(), timeoutMs: 300_000 })
  if (res.status !== 0) log(`[bench] warning: tsc exited ${res.status} (it still emits): ${res.stdout.trim().split('\n').slice(0, 5).join(' | ')}`)
  return `dist build (rebuilt by the bench${res.status !== 0 ? ', tsc reported errors' : ''})`
}

async function newerSources (than: number): Promise<string[]> {
  const out: string[] = []
  const walk = async (dir: string) => {
    for (const d of await fs.readdir(dir, { withFileTypes: true }).catch(() => [])) {
      const p = path.join(dir, d.name)
      if (d.isDirectory() && d.name !== 'node_modules' && d.name !== 'build') await walk(p)
      else if (d.isFile() && /\.tsx?$/.test(d.name) && (await fs.stat(p)).mtimeMs > than) out.push(path.relative(ROOT, p))
    }
  }
  for (const dir of ['core', 'manifests', 'mount', 'net', 'cli', 'tui']) await walk(path.join(ROOT, dir))
  return out
}

export async function removeScratch (scratch: Scratch, log: (line: string) => void) {
  const left = await mountsUnder(scratch.root)
  if (left.length > 0) log(`  left ${scratch.root} in place: still mounted: ${left.map(m => m.dir).join(', ')}`)
  else await scratch.close()
}

