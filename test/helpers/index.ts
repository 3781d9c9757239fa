/**
 * Test helpers: temporary state dirs, source trees, and the real `wxs`
 * command run as a child process (never in the test's own process).
 */
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { Assert } from 'brittle'
import { Engine } from '../../manifests/index.js'
import { isAlive } from '../../cli/lib/proc.js'
import { fuseBinding } from '../../mount/lib/fuse.js'

/** Whether mounts are served by the low-level libfuse 3 binding (WXS_FUSE: mount/lib/fuse.ts), which closes libfuse 2's gaps (README). */
export const FUSE_LL = fuseBinding() === 'll'

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
export const WXS_BIN = path.join(ROOT, 'cli', 'wxs.js')

/** A fresh temp dir removed at teardown (after daemons are stopped). */
export async function tmpDir (t: Assert, prefix = 'wxs-test-'): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), prefix))
  t.teardown(() => fs.rm(dir, { recursive: true, force: true }), { order: 100 })
  return dir
}

export interface RunResult { code: number | null, signal: NodeJS.Signals | null, stdout: string, stderr: string, json: any }

export interface RunOptions { env?: Record<string, string>, cwd?: string, wrap?: string[], timeoutMs?: number }

/** Runs `wxs args…` with WXS_HOME=home in a child process. */
export function wxs (home: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const argv = [...(opts.wrap ?? []), process.execPath, WXS_BIN, ...args]
  return run(argv[0], argv.slice(1), { cwd: opts.cwd ?? ROOT, env: { ...process.env, WXS_HOME: home, CI: 'true', ...opts.env }, timeoutMs: opts.timeoutMs })
}

export function run (cmd: string, args: string[], opts: { cwd?: string, env?: NodeJS.ProcessEnv, timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', d => { stdout += d })
    child.stderr.on('data', d => { stderr += d })
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000)
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      let json: any = null
      try { json = JSON.parse(stdout) } catch {}
      resolve({ code, signal, stdout, stderr, json })
    })
  })
}

/** A state dir whose daemon is stopped (or killed) at teardown. */
export async function stateDir (t: Assert): Promise<string> {
  const home = await tmpDir(t, 'wxs-home-')
  t.teardown(() => stopDaemon(home), { order: 0 })
  return home
}

export async function stopDaemon (home: string) {
  const pid = await daemonPid(home)
  if (pid === null) return
  await wxs(home, ['daemon', 'stop'], { timeoutMs: 20_000 }).catch(() => null)
  if (isRunning(pid)) {
    process.kill(pid, 'SIGKILL')
    await waitFor(() => !isRunning(pid), 5000)
  }
}

export async function daemonPid (home: string): Promise<number | null> {
  const text = await fs.readFile(path.join(home, 'daemon.pid'), 'utf8').catch(() => null)
  return text === null ? null : Number(text.trim())
}

/** Whether `pid` still runs (a zombie does not). */
export function isRunning (pid: number) {
  return isAlive(pid)
}

export async function waitFor (cond: () => boolean | Promise<boolean>, timeoutMs: number, stepMs = 20) {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await cond()) return true
    await new Promise(resolve => setTimeout(resolve, stepMs))
  }
  return false
}

export type TreeSpec = { [name: string]: string | Buffer | TreeSpec | { link: string } | { mode: number, content: string | Buffer } }

/** Writes a tree described by a nested object: strings/Buffers are files, objects are dirs. */
export async function writeTree (dir: string, spec: TreeSpec) {
  await fs.mkdir(dir, { recursive: true })
  for (const [name, value] of Object.entries(spec)) {
    const p = path.join(dir, name)
    if (typeof value === 'string' || Buffer.isBuffer(value)) await fs.writeFile(p, value)
    else if ('link' in value && typeof value.link === 'string') await fs.symlink(value.link, p)
    else if ('mode' in value && typeof value.mode === 'number') { await fs.writeFile(p, value.content as string | Buffer); await fs.chmod(p, value.mode) }
    else await writeTree(p, value as TreeSpec)
  }
}

/** `diff -r --no-dereference` plus a listing of modes, mtimes and link targets. Empty string = equal. */
export async function compareTrees (a: string, b: string): Promise<string> {
  const diff = await run('diff', ['-r', '--no-dereference', a, b])
  const [la, lb] = await Promise.all([describeTree(a), describeTree(b)])
  return diff.stdout + (la === lb ? '' : `metadata differs:\n--- ${a}\n${la}\n--- ${b}\n${lb}`)
}

export async function describeTree (dir: string): Promise<string> {
  const r = await run('find', ['.', '-mindepth', '1', '-printf', '%p %y %m %s %T@ %l\n'], { cwd: dir })
  return r.stdout.split('\n').filter(Boolean).map(l => {
    const [p, type, mode, size, mtime, link] = l.split(' ')
    // directory sizes and symlink mtimes are filesystem details; compare the rest
    // mtimes compared to the microsecond: Node's utimes() cannot set nanoseconds
    const usec = type === 'd' ? '' : mtime.replace(/(\.\d{6})\d*$/, '$1')
    return [p, type, type === 'l' ? '' : mode, type === 'd' ? '' : size, usec, link ?? ''].join(' ')
  }).sort().join('\n')
}

export function randomBuffer (size: number, seed: number): Buffer {
  const buf = Buffer.allocUnsafe(size)
  let x = seed >>> 0 || 1
  for (let i = 0; i < size; i++) { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; buf[i] = x & 0xff }
  return buf
}

/** An in-process engine on a fresh temp state dir, closed at teardown. */
export async function setupEngine (t: Assert) {
  const dir = await tmpDir(t)
  const home = path.join(dir, 'home')
  const e = new Engine({ home })
  await e.ready()
  t.teardown(() => e.close())
  return { dir, home, e }
}

/** Resolves to the error code a promise rejects with, or null if it resolves. */
export async function errorCode (p: Promise<unknown>): Promise<string | null> {
  try { await p; return null } catch (err) { return (err as { code?: string }).code ?? String(err) }
}

/** Runs a shell script in a child process (never in the process serving a mount). */
export function sh (script: string, opts: { cwd?: string, env?: Record<string, string>, timeoutMs?: number } = {}): Promise<RunResult> {
  return run('bash', ['-euo', 'pipefail', '-c', script], { cwd: opts.cwd, env: { ...process.env, ...opts.env }, timeoutMs: opts.timeoutMs })
}

/** Creates a workspace (empty or from `from`) and mounts it at a temp dir; unmounted at teardown. */
export async function mountedWorkspace (t: Assert, home: string, name: string, opts: { from?: string, access?: 'owner' | 'all' } = {}): Promise<string> {
  const dir = await tmpDir(t, `wxs-mnt-${name}-`)
  const args = ['create', name, '--mount', dir, '--json', ...(opts.from ? ['--from', opts.from] : []), ...(opts.access ? ['--access', opts.access] : [])]
  const r = await wxs(home, args)
  if (r.code !== 0) throw new Error(`create --mount failed: ${r.stderr}`)
  t.teardown(async () => {
    await wxs(home, ['unmount', name]).catch(() => null)
    await run('fusermount', ['-uz', dir]).catch(() => null)
  }, { order: -1 })
  return dir
}
