#!/usr/bin/env node
// Runs every test file (test/**/*.test.ts) in its own Node process with tsx,
// streams its TAP output, and ends with one line: "N passed, N failed".
// Usage: node test/run.js [filter-substring ...]
import { spawn } from 'node:child_process'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.dirname(fileURLToPath(import.meta.url))
const FILE_TIMEOUT_MS = Number(process.env.WXS_TEST_FILE_TIMEOUT_MS || 15 * 60 * 1000)
const filters = process.argv.slice(2)

function find (dir) {
  return readdirSync(dir).sort().flatMap(name => {
    const p = path.join(dir, name)
    if (statSync(p).isDirectory()) return find(p)
    return name.endsWith('.test.ts') ? [p] : []
  })
}

function runFile (file) {
  return new Promise(resolve => {
    const tag = randomBytes(8).toString('hex')
    const mountsBefore = new Set(fuseMounts())
    const child = spawn(process.execPath, ['--import', 'tsx', file], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, WXS_TEST_RUN: tag, WXS_NO_PUBLIC_BOOTSTRAP: '1' } })
    let passed = 0
    let failed = 0
    let plan = null
    let buffered = ''
    const timer = setTimeout(() => { process.stdout.write(`# ${file}: timed out after ${FILE_TIMEOUT_MS} ms\n`); child.kill('SIGKILL') }, FILE_TIMEOUT_MS)
    child.stdout.on('data', chunk => {
      process.stdout.write(chunk)
      buffered += chunk
      let nl
      while ((nl = buffered.indexOf('\n')) !== -1) {
        const line = buffered.slice(0, nl)
        buffered = buffered.slice(nl + 1)
        if (/^ok \d+/.test(line)) passed++
        else if (/^not ok \d+/.test(line)) failed++
        else if (/^1\.\.(\d+)/.test(line)) plan = Number(line.slice(3))
      }
    })
    child.stderr.on('data', chunk => process.stderr.write(chunk))
    child.on('close', code => {
      clearTimeout(timer)
      const leaked = cleanup(tag, mountsBefore)
      if (leaked > 0) process.stdout.write(`# ${file}: cleaned up ${leaked} leftover daemon(s)/mount(s) (a test crashed before its teardown?)\n`)
      // A crash or a missing plan counts as a failure of the file, never as silence.
      if (code !== 0 && failed === 0) failed = 1
      if (plan !== null && passed + failed < plan) failed += plan - passed - failed
      resolve({ file, passed, failed, code })
    })
  })
}

function fuseMounts () {
  return readFileSync('/proc/self/mounts', 'utf8').split('\n').map(l => l.split(' ')).filter(f => f[2]?.startsWith('fuse')).map(f => f[1])
}

/**
 * Kills daemons started by one test file, detaches test mounts that appeared
 * while it ran and deletes its network namespaces (test/net/netns.test.ts names
 * them wxs-<first 8 of the run tag>-…); all of it only left after crashes.
 */
function cleanup (tag, mountsBefore) {
  let n = 0
  for (const pid of readdirSync('/proc').filter(p => /^\d+$/.test(p))) {
    let env = ''
    try { env = readFileSync(`/proc/${pid}/environ`, 'latin1') } catch { continue }
    if (!env.includes(`WXS_TEST_RUN=${tag}`)) continue
    try { process.kill(Number(pid), 'SIGKILL'); n++ } catch {}
  }
  // only dead mounts (their daemon was just killed): a mount that still answers belongs to a
  // daemon of another run (two runners at once detached each other's mounts mid-test)
  const dead = dir => { try { statSync(dir); return false } catch (err) { return err.code === 'ENOTCONN' || err.code === 'ECONNABORTED' } }
  const mounts = fuseMounts().filter(dir => !mountsBefore.has(dir) && dir.startsWith(path.join(tmpdir(), 'wxs-')) && dead(dir))
  for (const dir of mounts) {
    try { execFileSync('fusermount', ['-uz', dir], { stdio: 'ignore' }); n++ } catch {}
  }
  let namespaces = ''
  try { namespaces = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }) } catch {}
  for (const ns of namespaces.split('\n').map(l => l.split(' ')[0]).filter(ns => ns.startsWith(`wxs-${tag.slice(0, 8)}-`))) {
    try { execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' }); n++ } catch {}
  }
  return n
}

const files = find(root).filter(f => filters.length === 0 || filters.some(s => f.includes(s)))
let passed = 0
let failed = 0
const failures = []
for (const file of files) {
  process.stdout.write(`\n# file ${path.relative(process.cwd(), file)}\n`)
  const r = await runFile(file)
  passed += r.passed
  failed += r.failed
  if (r.failed > 0) failures.push(`${path.relative(process.cwd(), file)} (exit ${r.code})`)
}
if (files.length === 0) { failed = 1; failures.push('no test files found') }
for (const f of failures) process.stdout.write(`# failed: ${f}\n`)
process.stdout.write(`${passed} passed, ${failed} failed\n`)
process.exitCode = failed > 0 ? 1 : 0
