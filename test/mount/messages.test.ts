// mounts.json (mount/messages.ts): version 2 records each mount's dir and
// access; version 1 files (name -> dir, before access existed) still read.
import test from 'brittle'
import fs from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseMounts, formatMounts } from '../../mount/index.js'

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures')

test('mounts.json: version 2 reads and writes byte for byte; version 1 reads with access owner; what is malformed is refused or left out', async t => {
  const v2 = await fs.readFile(path.join(fixtures, 'mounts-v2.json'), 'utf8')
  const mounts = parseMounts(v2)
  t.alike(mounts, { api: { dir: '/root/wxs/api', access: 'owner' }, web: { dir: '/srv/web', access: 'all' } })
  t.is(formatMounts(mounts), v2, 're-written byte for byte')
  const v1 = await fs.readFile(path.join(fixtures, 'mounts-v1.json'), 'utf8')
  t.alike(parseMounts(v1), { api: { dir: '/root/wxs/api', access: 'owner' }, web: { dir: '/srv/web', access: 'owner' } }, 'a version-1 file: every mount with the default access')
  t.exception(() => parseMounts('{"v": 3, "mounts": {}}'), /unsupported mounts file version 3/)
  t.exception(() => parseMounts('[]'), /not an object/)
  t.alike(parseMounts('{"v": 2, "mounts": {"a": {"dir": 7}, "b": {"dir": "/b", "access": "everyone"}, "c": null}}'), { b: { dir: '/b', access: 'owner' } }, 'a record without a dir is left out; an unknown access is the default')
})

test('audit trail (version 1): the fixture reads record by record, a line cut short by a crash is skipped; records write back as they read; globs', async t => {
  const { parseAuditRecord, formatAuditRecord, globToRegExp } = await import('../../mount/index.js')
  const text = await fs.readFile(path.join(fixtures, 'audit-v1.ndjson'), 'utf8')
  const lines = text.split('\n').filter(Boolean)
  const records = lines.map(parseAuditRecord)
  t.is(records.filter(r => r !== null).length, 4, 'four whole records, the cut last line skipped')
  t.alike(records[0], { t: 1765000000000, op: 'read', pid: 4242, cmd: 'cat', pgid: 4242, uid: 0, path: 'src/a.txt' })
  t.alike(records[2], { t: 1765000000200, op: 'rename', pid: 4243, cmd: 'mv', pgid: 4243, uid: 1000, path: 'a', to: 'b' })
  t.is(records[3]!.path, 'caf\udce9', 'a name that is not UTF-8 keeps its escape')
  for (let i = 0; i < 4; i++) t.is(formatAuditRecord(records[i]!), lines[i] + '\n', `record ${i} writes back byte for byte`)
  t.is(parseAuditRecord('{"v":2,"t":1,"op":"read","pid":1,"path":"a"}'), null, 'an unknown version is skipped')
  t.is(parseAuditRecord('{"v":1,"t":1,"op":"explode","pid":1,"path":"a"}'), null, 'an unknown operation is skipped')
  const g = globToRegExp('src/**/*.ts')
  t.ok(g.test('src/a.ts') && g.test('src/x/y/a.ts') && !g.test('src/a.js') && !g.test('lib/a.ts'), 'src/**/*.ts')
  t.ok(globToRegExp('*.log').test('x.log') && !globToRegExp('*.log').test('d/x.log'), '* stays within a name')
})

test('/proc/<pid>/stat as the audit trail reads it: a command holding ")" and spaces, the process group, this process', async t => {
  const { parseStat } = await import('../../mount/lib/audit.js')
  const odd = Buffer.from('123 (a) b) c) S 1 4567 4567 0 -1 4194560')
  t.alike(parseStat(odd, odd.length), { cmd: 'a) b) c', pgid: 4567 }, 'the last ")" ends the command')
  const self = await fs.readFile('/proc/self/stat')
  const fields = self.toString('latin1').split(') ')[1].split(' ')
  t.alike(parseStat(self, self.length), { cmd: 'node', pgid: Number(fields[2]) }, 'this process')
  t.is(parseStat(Buffer.from('garbage'), 7).cmd, '', 'no parentheses: no command')
})

/** What the audit trail's unit tests need: the log, its reader, spawn, and a scratch dir removed after. */
async function auditSetup (t: { teardown: (fn: () => unknown) => void }) {
  const { AuditLog, readAudit } = await import('../../mount/lib/audit.js')
  const { spawn } = await import('node:child_process')
  const os = await import('node:os')
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'wxs-audit-'))
  t.teardown(() => fs.rm(dir, { recursive: true, force: true }))
  return { AuditLog, readAudit, spawn, dir }
}

test('the audit trail names the process: its command and process group, through getpgid(2) and /proc/<pid>/comm, and through /proc/<pid>/stat alone; a process gone: no name', async t => {
  const { AuditLog, readAudit, spawn, dir } = await auditSetup(t)
  // in its own process group (detached), after an exec (the command is sleep's, not bash's)
  const child = spawn('bash', ['-c', 'exec sleep 30'], { detached: true, stdio: 'ignore' })
  t.teardown(() => { try { process.kill(-child.pid!, 'SIGKILL') } catch {} })
  await new Promise(resolve => setTimeout(resolve, 300))
  for (const [how, getpgid] of [['getpgid', undefined], ['stat', null]] as const) {
    const file = path.join(dir, `${how}.ndjson`)
    const log = new AuditLog({ file, getpgid })
    log.record('read', { pid: child.pid!, uid: 0 }, '/a')
    log.record('read', { pid: 2 ** 22 + 1, uid: 0 }, '/b') // no such pid (above pid_max's limit)
    await log.close()
    const recs = await readAudit(file)
    t.alike(recs.map(r => [r.cmd, r.pgid]), [['sleep', child.pid], ['', 0]], `${how}: sleep, in its own group; a pid that is not there: none`)
  }
})

test('the audit trail names a process it has seen after the answer: after an exec by its new command, and once the process is gone by the name it read last', async t => {
  const { AuditLog, readAudit, spawn, dir } = await auditSetup(t)
  for (const [how, getpgid] of [['getpgid', undefined], ['stat', null]] as const) {
    // bash waits on its stdin, then becomes sleep (same pid)
    const child = spawn('bash', ['-c', 'read -r _; exec sleep 30'], { detached: true, stdio: ['pipe', 'ignore', 'ignore'] })
    const exited = new Promise(resolve => child.once('exit', resolve))
    t.teardown(() => { try { process.kill(-child.pid!, 'SIGKILL') } catch {} })
    await new Promise(resolve => setTimeout(resolve, 200))
    const file = path.join(dir, `${how}.ndjson`)
    const log = new AuditLog({ file, getpgid })
    const who = { pid: child.pid!, uid: 0 }
    log.record('read', who, '/before') // first seen: named at once
    child.stdin!.end('go\n')
    let comm = ''
    for (let i = 0; i < 100 && comm !== 'sleep'; i++) {
      await new Promise(resolve => setTimeout(resolve, 20))
      comm = (await fs.readFile(`/proc/${child.pid}/comm`, 'utf8').catch(() => '')).trim()
    }
    t.is(comm, 'sleep', `${how}: the child exec()ed sleep`)
    log.record('read', who, '/after-exec') // seen before: named after the answer (a microtask), by what it runs now
    await Promise.resolve()
    process.kill(-child.pid!, 'SIGKILL')
    await exited // gone and reaped
    log.record('unlink', who, '/after-exit') // its /proc file fails now: the name read last
    await log.close()
    const recs = await readAudit(file)
    t.alike(recs.map(r => [r.path, r.cmd, r.pgid]), [['before', 'bash', child.pid], ['after-exec', 'sleep', child.pid], ['after-exit', 'sleep', child.pid]], `${how}: bash, then sleep, then sleep once gone`)
  }
})
