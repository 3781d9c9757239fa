/**
 * The raw baseline of `bench net`: a plain TCP copy of the same tree over
 * loopback (bench/lib/net-tcp.cjs), a receiver and a sender process like two
 * peers. Timed from the sender's spawn until the receiver has written the last
 * byte and exited (both Node start-ups of ~40 ms are inside, as the wxs CLI's is).
 */
import { spawn } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { childEnv, spawnAsync } from './proc.js'

const SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'net-tcp.cjs')

export interface TcpCopy { ms: number, files: number, bytes: number }

/** Streams every file of `src` into the file `dest` (must not exist) over a loopback TCP connection. */
export async function tcpCopy (src: string, dest: string): Promise<TcpCopy> {
  const receiver = spawn(process.execPath, [SCRIPT, 'recv', dest], { stdio: ['ignore', 'pipe', 'pipe'], env: childEnv() })
  let out = ''
  let err = ''
  receiver.stderr!.setEncoding('utf8').on('data', (s: string) => { err += s })
  const exited = new Promise<number | null>(resolve => receiver.once('close', code => resolve(code)))
  try {
    const port = await new Promise<number>((resolve, reject) => {
      receiver.stdout!.setEncoding('utf8').on('data', (s: string) => {
        out += s
        const nl = out.indexOf('\n')
        if (nl !== -1 && out.startsWith('{"port"')) { resolve(JSON.parse(out.slice(0, nl)).port); out = out.slice(nl + 1) }
      })
      exited.then(code => reject(new Error(`tcp receiver exited ${code} before listening: ${err.trim()}`)))
    })
    const started = performance.now()
    const [sent, code] = await Promise.all([spawnAsync(process.execPath, [SCRIPT, 'send', String(port), src], { env: childEnv(), timeoutMs: 300_000 }), exited])
    const ms = performance.now() - started
    if (sent.status !== 0) throw new Error(`tcp sender exited ${sent.status}: ${sent.stderr.trim()}`)
    if (code !== 0) throw new Error(`tcp receiver exited ${code}: ${err.trim()}`)
    const res = JSON.parse(out.trim())
    return { ms, files: res.files, bytes: res.bytes }
  } finally {
    if (receiver.exitCode === null && receiver.signalCode === null) receiver.kill('SIGKILL')
  }
}
