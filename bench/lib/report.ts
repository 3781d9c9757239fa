/** The environment of a run and the JSON results file. */
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export const RESULTS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'results')

export interface Environment {
  date: string
  cpu: string
  cpus: number
  memBytes: number
  kernel: string
  platform: string
  node: string
  versions: Record<string, string>
}

export async function environment (packages: string[] = []): Promise<Environment> {
  const versions: Record<string, string> = {}
  for (const name of packages) versions[name] = await packageVersion(name)
  return {
    date: new Date().toISOString(),
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cpus: os.cpus().length,
    memBytes: os.totalmem(),
    kernel: `${os.type()} ${os.release()}`,
    platform: `${process.platform}-${process.arch}`,
    node: process.version,
    versions
  }
}

async function packageVersion (name: string): Promise<string> {
  const file = path.join(RESULTS_DIR, '..', '..', 'node_modules', name, 'package.json')
  const pkg = await fs.readFile(file, 'utf8').then(JSON.parse).catch(() => null)
  return pkg?.version ?? 'unknown'
}

/** Writes `data` to bench/results/<name>-<timestamp>.json and returns the path. */
export async function writeResults (name: string, data: unknown): Promise<string> {
  await fs.mkdir(RESULTS_DIR, { recursive: true })
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '')
  const file = path.join(RESULTS_DIR, `${name}-${stamp}.json`)
  await fs.writeFile(file, JSON.stringify(data, null, 2) + '\n')
  return file
}
