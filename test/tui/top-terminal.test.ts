// `wxs top` in a real terminal: tmux runs it against two real daemons on a
// private DHT on 127.0.0.1 during a real join (`tmux new-session -d -x 120 -y 40`,
// `capture-pane -p`, `send-keys`). CI is unset inside the session so Ink renders
// as on a terminal. tmux comes from the project's setup (.ci/setup); without it
// this test fails, it does not skip.
import test, { configure } from 'brittle'
import path from 'node:path'
import { randomBytes } from 'node:crypto'
import { tmpDir, writeTree, randomBuffer, run, waitFor, WXS_BIN, ROOT, type TreeSpec } from '../helpers/index.js'
import { localBootstrap, peer, ok, netEnv } from '../helpers/net.js'

configure({ timeout: 300_000 })

async function tmux (args: string[]) {
  const r = await run('tmux', args, { timeoutMs: 20_000 })
  if (r.code !== 0) throw new Error(`tmux ${args.join(' ')} failed (${r.code}): ${r.stderr.trim()}; tmux is installed by .ci/setup`)
  return r.stdout
}

test('wxs top in tmux: a join of 10k files from two peers appears with both, p resumes and pauses the fetch, resize, too small, q restores the screen', async t => {
  const net = await localBootstrap(t)
  const [a, b, c] = [await peer(t, net), await peer(t, net), await peer(t, net)]
  const src = path.join(await tmpDir(t), 'src')
  const spec: TreeSpec = { 'README.md': '# watched\n' }
  for (let i = 0; i < 30; i++) spec[`blob${i}.bin`] = randomBuffer(200_000, 40 + i)
  for (let d = 0; d < 100; d++) {
    const dir: TreeSpec = {}
    for (let f = 0; f < 100; f++) dir[`f${f}.txt`] = `file ${f} of dir ${d}\n`
    spec[`d${d}`] = dir
  }
  await writeTree(src, spec)
  await ok(a, ['create', 'w', '--from', src])
  const { key } = await ok(a, ['share', 'w'])
  // a second source: C follows A and holds everything
  await ok(c, ['join', key, 'w'])
  await ok(c, ['sync', 'w', '--timeout', '60'])
  await ok(b, ['daemon', 'start'])

  const session = `wxs-top-${randomBytes(4).toString('hex')}`
  const env = { ...netEnv(net.bootstrap), WXS_HOME: b.home }
  const exports = Object.entries(env).map(([k, v]) => `${k}=${v}`).join(' ')
  await tmux(['new-session', '-d', '-s', session, '-x', '120', '-y', '40', 'bash', '--norc', '--noprofile'])
  t.teardown(() => run('tmux', ['kill-session', '-t', session]).catch(() => null))
  const screen = async () => (await tmux(['capture-pane', '-p', '-t', session])).replace(/\s+$/, '')
  const shows = (re: RegExp, ms = 20_000) => waitFor(async () => re.test(await screen()), ms, 200)
  await tmux(['send-keys', '-t', session, `echo BEFORE-TOP; cd ${ROOT}; env -u CI ${exports} ${process.execPath} ${WXS_BIN} top; echo "TOP-EXITED $?"`, 'Enter'])
  t.ok(await shows(/1 Workspaces\s+\(0\)/), 'the dashboard is up, nothing joined yet')
  t.ok(/3 Peers\s+\(0 connected\)/.test(await screen()), "no peer yet")

  await ok(b, ['join', key, 'w', '--lazy'])
  t.ok(await shows(/^ w\s+on-demand/m), 'the joined workspace appears, its background fetch off (lazy)')
  t.ok(await shows(/3 Peers\s+\(2 connected\)/), 'and both peers it can fetch from')
  const lazyScreen = await screen()
  t.ok(/PEER\s+LINK\s+ADDRESS/.test(lazyScreen) && /^\s+[0-9a-f]{12}\s+(in|out) <1m\s+127\.0\.0\.1:\d+/m.test(lazyScreen), 'each peer with its link: who dialled, since when, from where')
  t.ok(/ETA unknown: background fetch paused/.test(lazyScreen), `why it is not done, and why no ETA\n${lazyScreen}`)

  await tmux(['send-keys', '-t', session, 'p'])
  t.ok(await shows(/w: background fetch resumed/), 'p is a daemon action, told in the footer')
  t.ok(await shows(/^ w\s+complete\s+complete, 5\.9 MiB/m, 60_000), 'the fetch of 10k files runs to complete (100% = every object here)')
  t.ok(await shows(/complete/), 'and the event log says so')
  await tmux(['send-keys', '-t', session, 'p'])
  t.ok(await shows(/w: background fetch paused/), 'p again pauses it')
  const state = JSON.parse((await b.run(['top', '--json', '--once'])).stdout.split('\n')[0]).state
  t.ok(state.workspaces.w.fetch.paused, 'the daemon has it paused')

  await tmux(['resize-window', '-t', session, '-x', '80', '-y', '24'])
  t.ok(await shows(/5 Events/), 'redrawn at 80x24')
  const small = (await screen()).split('\n')
  t.ok(small.length <= 23, `never taller than the terminal minus one (${small.length} lines)`)
  t.ok(small.every(l => [...l].length <= 80), 'and never wider')
  await tmux(['resize-window', '-t', session, '-x', '40', '-y', '8'])
  t.ok(await shows(/wxs top: need 50x10 \(have 40x8\)/), 'too small: one line saying the size needed')
  await tmux(['resize-window', '-t', session, '-x', '120', '-y', '40'])
  t.ok(await shows(/1 Workspaces/), 'back at 120x40')

  await tmux(['send-keys', '-t', session, 'q'])
  t.ok(await shows(/TOP-EXITED 0/), 'q quits with status 0')
  const after = await screen()
  t.ok(after.includes('BEFORE-TOP'), 'the shell\'s screen is back (alternate screen left)')
  t.absent(after.includes('1 Workspaces'), 'nothing of the dashboard is left on it')
})
