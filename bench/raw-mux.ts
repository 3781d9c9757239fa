/**
 * Raw ceiling, a measurement tool (not run by `npm run bench`): Protomux over one Hyperswarm
 * connection between two fresh processes on the bench's kind of private DHT.
 * The client asks for N objects of S bytes in request messages of up to 1024
 * hashes, keeping W objects in flight; the server answers with the wxs object
 * batch encoding, cut at 1 MiB. HASH=1 adds BLAKE3 on both sides (as wxs does).
 * Prints the transfer time (first request to last object) and per-process CPU.
 * RCVBUF=<bytes> sets both UDP socket buffers of the connection (drops showed up in
 * /proc/net/snmp RcvbufErrors; raising them changed nothing measurable here).
 * usage: node --import tsx bench/raw-mux.ts <count> <bytes> <window> [reps]
 */
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import Hyperswarm from 'hyperswarm'
import DHT from 'hyperdht'
import Protomux from 'protomux'
import c from 'compact-encoding'
import { runBootstrap } from '../net/index.js'
import { hashList, objectBatch, type ObjectItem } from '../net/messages.js'
import { hash as blake3 } from '../core/index.js'

const HASH = process.env.HASH === '1'
const [role, ...rest] = process.argv.slice(2)
const topic = Buffer.alloc(32, 7)

function cpuMs () { const u = process.cpuUsage(); return (u.user + u.system) / 1000 }

async function swarmOn (bootstrap: string) {
  const [host, port] = bootstrap.split(':')
  const dht = new DHT({ bootstrap: [{ host, port: Number(port) }], host: '127.0.0.1', firewalled: false })
  return new Hyperswarm({ dht })
}

function tune (conn: any) {
  const n = Number(process.env.RCVBUF || 0)
  if (!n) return
  const sock = conn.rawStream?.socket
  sock.setRecvBufferSize(n); sock.setSendBufferSize(n)
}

function channel (conn: any, onRequest: ((m: Buffer[]) => void) | null, onObjects: ((m: ObjectItem[]) => void) | null) {
  tune(conn)
  const mux = Protomux.from(conn)
  const ch = mux.createChannel({ protocol: 'raw/objects', id: topic })
  if (ch === null) throw new Error('cannot open the raw channel')
  const request = ch.addMessage({ encoding: hashList, onmessage: (m: Buffer[]) => onRequest?.(m) })
  const objects = ch.addMessage({ encoding: objectBatch, onmessage: (m: ObjectItem[]) => onObjects?.(m) })
  ch.open()
  return { request, objects }
}

if (role === 'server') {
  const [bootstrap, count, bytes] = rest
  const store = new Map<string, Buffer>()
  const keys: Buffer[] = []
  for (let i = 0; i < Number(count); i++) { const d = randomBytes(Number(bytes) - 512 + (i % 1024)); const h = blake3(d); store.set(h.toString('hex'), d); keys.push(h) }
  const swarm = await swarmOn(bootstrap)
  swarm.on('connection', (conn: any) => {
    const cpu0 = cpuMs()
    let ch: any = null
    ch = channel(conn, hashes => {
      let batch: ObjectItem[] = []; let n = 0
      for (const h of hashes) {
        const d = store.get(h.toString('hex'))!
        if (HASH) blake3(d)
        if (batch.length > 0 && n + d.byteLength > 1024 * 1024) { ch.objects.send(batch); batch = []; n = 0 }
        batch.push({ hash: h, data: d }); n += d.byteLength
      }
      if (batch.length) ch.objects.send(batch)
    }, null)
    conn.on('close', () => { process.stdout.write(JSON.stringify({ serverCpuMs: cpuMs() - cpu0 }) + '\n'); process.exit(0) })
  })
  await swarm.join(topic, { server: true, client: false }).flushed()
  process.stdout.write(JSON.stringify({ keys: keys.map(k => k.toString('hex')) }) + '\n')
} else if (role === 'client') {
  const [bootstrap, keysFile, window] = rest
  const keys: Buffer[] = (JSON.parse((await import('node:fs')).readFileSync(keysFile, 'utf8')) as string[]).map(k => Buffer.from(k, 'hex'))
  const swarm = await swarmOn(bootstrap)
  const t0 = performance.now()
  swarm.on('connection', (conn: any) => {
    const tc = performance.now(); const cpu0 = cpuMs()
    let next = 0; let inflight = 0; let got = 0; let bytes = 0
    const pump = () => {
      const out: Buffer[] = []
      while (inflight < Number(window) && next < keys.length) { out.push(keys[next++]); inflight++; if (out.length === 1024) { ch.request.send(out.splice(0)) } }
      if (out.length) ch.request.send(out)
    }
    const ch = channel(conn, null, items => {
      for (const it of items) { if (HASH) blake3(it.data); bytes += it.data.byteLength }
      got += items.length; inflight -= items.length
      if (got === keys.length) { const ms = performance.now() - tc; process.stdout.write(JSON.stringify({ connectMs: tc - t0, transferMs: ms, bytes, clientCpuMs: cpuMs() - cpu0 }) + '\n'); conn.destroy(); setTimeout(() => process.exit(0), 100) } else pump()
    })
    pump()
  })
  swarm.join(topic, { server: false, client: true })
} else {
  const [count, bytes, window, reps] = [process.argv[2], process.argv[3], process.argv[4], process.argv[5] ?? "3"]
  const boot = await runBootstrap({ host: '127.0.0.1' })
  const bs = `${boot.host}:${boot.port}`
  const self = fileURLToPath(import.meta.url)
  const results: any[] = []
  for (let r = 0; r < Number(reps); r++) {
    const server = spawn(process.execPath, ['--import', 'tsx', self, 'server', bs, count, bytes], { stdio: ['ignore', 'pipe', 'inherit'] })
    const serverClosed = new Promise(resolve => server.on('close', resolve))
    let out = ''
    let first: string | null = null
    const keysLine = await new Promise<string>(resolve => server.stdout!.on('data', d => { out += d; const i = out.indexOf('\n'); if (first === null && i !== -1) { first = out.slice(0, i); out = out.slice(i + 1); resolve(first) } }))
    const file = `/tmp/raw-mux-keys-${process.pid}.json`
    ;(await import('node:fs')).writeFileSync(file, JSON.stringify(JSON.parse(keysLine).keys))
    const client = spawn(process.execPath, ['--import', 'tsx', self, 'client', bs, file, window], { stdio: ['ignore', 'pipe', 'inherit'] })
    let cout = ''
    client.stdout!.on('data', d => { cout += d })
    await new Promise(resolve => client.on('close', resolve))
    await serverClosed
    const res = { ...JSON.parse(cout.trim()), ...JSON.parse(out.trim()) }
    results.push(res)
    console.log(JSON.stringify({ ...res, perSec: Number(count) / res.transferMs * 1000, MiBps: res.bytes / 1048576 / res.transferMs * 1000 }))
  }
  await boot.close()
}
