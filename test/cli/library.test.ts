// The library (issue 14): `import { Wxs } from 'wxs'` against a real daemon it
// starts on demand: the flows an agent runs, answered with the CLI's --json shapes.
import test, { configure } from 'brittle'
import fs from 'node:fs/promises'
import path from 'node:path'
import { Wxs } from 'wxs'
import { stateDir, tmpDir, wxs, writeTree, compareTrees } from '../helpers/index.js'

configure({ timeout: 300_000 })

test('Wxs: create, fork, exec, diff, snapshot, restore, events, with the same JSON as the CLI', async t => {
  const home = await stateDir(t)
  const src = path.join(await tmpDir(t), 'src')
  await writeTree(src, { 'app.js': 'console.log(1)\n', docs: { 'a.md': '# a\n' } })
  const w = new Wxs({ home })

  const created = await w.create('base', { from: src })
  t.is(created.workspace.name, 'base', 'create (the daemon started on demand)')
  t.is(created.commit.stats.files, 2)
  const forked = await w.fork('base', 'task-1')
  t.is(forked.workspace.origin.name, 'base')

  const run = await w.exec('task-1', ['sh', '-c', 'echo 2 >> app.js; rm docs/a.md; echo new > notes.txt; echo done'], { timeoutS: 30 })
  t.is(run.exit_code, 0)
  t.is(run.stdout, 'done\n')
  t.alike(run.changed.added.map(c => c.path), ['notes.txt'])
  t.alike(run.changed.modified.map(c => c.path), ['app.js'])
  t.alike(run.changed.removed.map(c => c.path), ['docs/a.md'])

  const viaLib = await w.diff('task-1', String(run.before), String(run.commit))
  const viaCli = await wxs(home, ['diff', 'task-1', String(run.before), String(run.commit), '--json'])
  t.alike(viaLib, viaCli.json, 'diff answers what wxs diff --json prints')
  const info = await w.info('task-1')
  t.alike(info, (await wxs(home, ['info', 'task-1', '--json'])).json, 'info too')

  const snap = await w.snapshot('task-1', 'after-run')
  t.is(snap.snapshot.label, 'after-run')
  await w.restore('task-1', run.snapshot!)
  const out = path.join(await tmpDir(t), 'out')
  t.is((await wxs(home, ['export', 'task-1', out])).code, 0)
  t.is(await compareTrees(src, out), '', 'restored to the snapshot exec took: the tree before the command')

  let state = null
  for await (const reply of w.events()) {
    if (reply.type === 'state') { state = reply.state; break }
  }
  t.ok(state !== null && 'task-1' in (state as any).workspaces, 'events: the watch stream, starting with the state')

  const failed = await w.info('nope').then(() => null, (err: { code: string }) => err.code)
  t.is(failed, 'WORKSPACE_NOT_FOUND', 'failures reject with the code the CLI reports')
  await fs.rm(out, { recursive: true })
})
