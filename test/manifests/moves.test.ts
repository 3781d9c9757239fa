import test from 'brittle'
import path from 'node:path'
import c from 'compact-encoding'
import crypto from 'hypercore-crypto'
import { Engine, Workspace, messages } from '../../manifests/index.js'
import { secretMatches, verifyContinuation } from '../../manifests/lib/moves.js'
import { tmpDir, writeTree, errorCode } from '../helpers/index.js'
import type { Assert } from 'brittle'

/** Two engines (two machines' state dirs) whose Corestores replicate over an in-process stream. */
async function twoMachines (t: Assert) {
  const dir = await tmpDir(t)
  const a = new Engine({ home: path.join(dir, 'a') })
  const b = new Engine({ home: path.join(dir, 'b') })
  await a.ready()
  await b.ready()
  t.teardown(async () => { await b.close(); await a.close() })
  const s1 = a.corestore.replicate(true)
  const s2 = b.corestore.replicate(false)
  s1.pipe(s2).pipe(s1)
  t.teardown(() => { s1.destroy(); s2.destroy() })
  const src = path.join(dir, 'src')
  await writeTree(src, { 'a.txt': 'one\n', sub: { 'b.txt': 'two\n' } })
  await a.create('api', { from: src })
  await a.snapshot('api', 'v1')
  return { dir, a, b, src }
}

/** B's copy of A's log, downloaded whole (what the network layer does before resuming). */
async function replicated (b: Engine, key: Buffer) {
  const ws = await b.openLog(key)
  await ws.core.update({ wait: true })
  await ws.core.download({ start: 0, end: ws.core.length }).done()
  await ws.refresh()
  return ws
}

/** A log of B's whose prologue is `source` whole: what a forger starts from (it can copy any log it can read). */
async function forgedLog (b: Engine, source: Workspace, name: string) {
  const keyPair = await b.corestore.createKeyPair(name)
  const length = source.core.length
  const core = b.corestore.get({ manifest: { version: 1, quorum: 1, signers: [{ signature: 'ed25519', publicKey: keyPair.publicKey }], prologue: { hash: await source.core.treeHash(length), length } }, keyPair })
  await core.ready()
  await (core as any).core.copyPrologue((source.core as any).state)
  const forged = new Workspace(core)
  await forged.ready()
  return { forged, core, length }
}

test('pause: a signed record after the head; idempotent; the log then refuses commits', async t => {
  const { a } = await twoMachines(t)
  const first = await a.pause('api', { workingSet: ['/a.txt', '/sub/b.txt'], note: 'go on with the tests', meta: [{ key: 'cwd', value: '/sub' }], mountDir: '/root/wxs/api' })
  t.ok(first.created, 'a new record')
  t.is(first.move.hop, 0)
  t.is(first.move.pause.commit, 0, 'the head commit is captured')
  t.ok(secretMatches(first.move, first.secret), 'the kept secret is the handoff key\'s')
  t.alike(first.workspace.paused?.note, 'go on with the tests')
  const again = await a.pause('api')
  t.absent(again.created, 'pausing again appends nothing')
  t.alike(again.secret, first.secret, 'and returns the same secret')
  t.alike(again.move.pauseBytes, first.move.pauseBytes)
  t.is(await errorCode(a.snapshot('api', 'after')), 'PAUSED')
  t.is(await errorCode(a.restore('api', 'v1')), 'PAUSED')
  const decoded = c.decode(messages.pauseRecord, first.move.pauseBytes)
  t.alike(decoded.workingSet, ['/a.txt', '/sub/b.txt'])
})

test('resume: a new log whose prologue is the old one, history reads through, writable, verifiable', async t => {
  const { a, b } = await twoMachines(t)
  const paused = await a.pause('api')
  const aws = await a.workspace('api')
  const source = await replicated(b, aws.key)
  t.ok(source.paused, 'B sees the open pause')
  t.is(await errorCode(b.resume('api', source, Buffer.alloc(32, 7))), 'HANDOFF_MISMATCH', 'a wrong secret cannot resume')
  const resumed = await b.resume('api', source, paused.secret)
  const bws = await b.workspace('api')
  t.not(bws.key.equals(aws.key), true, 'B writes its own log')
  t.ok(bws.core.writable)
  t.is(bws.core.manifest!.prologue!.length, aws.core.length, 'the prologue is A\'s log through the pause')
  t.absent(bws.paused, 'not paused any more')
  t.is(resumed.workspace.identity, aws.key.toString('hex'), 'the identity stays A\'s key')
  t.is(resumed.workspace.lineage.length, 1)
  t.is(resumed.workspace.lineage[0].pausedKey, aws.key.toString('hex'))
  t.is(resumed.workspace.lineage[0].resumedKey, bws.key.toString('hex'))
  const log = await b.log('api')
  t.alike(log.map(x => x.seq), [0], 'A\'s commit is in B\'s log')
  t.alike(log[0].snapshots, ['v1'], 'with its snapshot')
  t.ok(await verifyContinuation(source, bws), 'the continuation verifies against A\'s log')
  await b.restore('api', 'v1')
  t.alike((await b.log('api')).map(x => x.seq), [1, 0], 'B appends after A\'s history')
  // a forged continuation: the right structure, signed with another key
  const forger = crypto.keyPair()
  const cont = bws.moves[0].continuation!
  const forged = { ...cont, signature: crypto.sign(messages.continuationSignable(bws.key, cont, bws.moves[0].pauseBytes), forger.secretKey) }
  t.ok(crypto.verify(messages.continuationSignable(bws.key, cont, bws.moves[0].pauseBytes), cont.signature, bws.moves[0].pause.handoffKey), 'the real signature checks')
  t.absent(crypto.verify(messages.continuationSignable(bws.key, forged, bws.moves[0].pauseBytes), forged.signature, bws.moves[0].pause.handoffKey), 'a forged one does not')
})

test('a forged continuation (right prologue, signed by another key) does not verify', async t => {
  const { a, b } = await twoMachines(t)
  await a.pause('api')
  const source = await replicated(b, (await a.workspace('api')).key)
  const { forged, core, length } = await forgedLog(b, source, 'forger')
  const move = forged.moves[0]
  const body = { hop: move.hop, previousKey: source.key, previousLength: length }
  const signature = crypto.sign(messages.continuationSignable(core.key, body, move.pauseBytes), crypto.keyPair().secretKey)
  await forged.appendContinuation({ ...body, time: Date.now(), holder: 'mallory', signature })
  t.is(await verifyContinuation(source, forged), null, 'signed by a key that is not the pause\'s: refused')
  const good = await b.resume('api', source, (await a.pause('api')).secret)
  t.ok(good)
  t.ok(await verifyContinuation(source, await b.workspace('api')), 'the real one verifies')
  t.is(await verifyContinuation(await b.workspace('api'), source), null, 'a log is not its own predecessor\'s continuation')
  await forged.close()
})

test('a log that appends its own pause after an unpaused prologue and signs its continuation with that key does not verify', async t => {
  const { a, b } = await twoMachines(t)
  const source = await replicated(b, (await a.workspace('api')).key)
  t.absent(source.paused, 'A never paused')
  const { forged, core, length } = await forgedLog(b, source, 'forger-2')
  const handoff = crypto.keyPair()
  const pause = await forged.appendPause({ hop: 0, commit: 0, root: forged.head!.root, handoffKey: handoff.publicKey, time: Date.now(), holder: 'mallory', mountDir: '', workingSet: [], note: '', meta: [] })
  const body = { hop: 0, previousKey: source.key, previousLength: length }
  await forged.appendContinuation({ ...body, time: Date.now(), holder: 'mallory', signature: crypto.sign(messages.continuationSignable(core.key, body, pause.pauseBytes), handoff.secretKey) })
  t.is(await verifyContinuation(source, forged), null, 'the pause must be in the previous holder\'s own log')
  await forged.close()
})

test('resume: a name already here is taken only by an earlier log of the same workspace', async t => {
  const { a, b, src } = await twoMachines(t)
  const paused = await a.pause('api')
  await b.create('api', { from: src })
  const source = await replicated(b, (await a.workspace('api')).key)
  t.is(await errorCode(b.resume('api', source, paused.secret)), 'WORKSPACE_EXISTS')
  await b.resume('api-b', source, paused.secret)
  t.is(await b.continuedHere(source.key, 0), 'api-b', 'the engine knows this pause was resumed here')
})

test('a joined (followed) workspace cannot be paused', async t => {
  const { a, b } = await twoMachines(t)
  const remote = await b.openRemote((await a.workspace('api')).key)
  await remote.core.update({ wait: true })
  await remote.refresh()
  await b.registerRemote('api', remote)
  t.is(await errorCode(b.pause('api')), 'NOT_WRITER')
})
