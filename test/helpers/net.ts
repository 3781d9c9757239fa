/**
 * Network test helpers. Every networked test starts its own DHT bootstrap on
 * loopback and hands it to every daemon explicitly: nothing run here may reach
 * the public bootstrap nodes. `netEnv` refuses to work without a bootstrap, and
 * WXS_NO_PUBLIC_BOOTSTRAP makes the daemon refuse the public default too.
 */
import type { Assert } from 'brittle'
import { runBootstrap } from '../../net/index.js'
import { wxs, stateDir, waitFor, tmpDir, run, type RunOptions, type RunResult } from './index.js'

export interface LocalBootstrap { bootstrap: string, host: string, port: number }

/** A private DHT on 127.0.0.1 (several nodes in this process), closed at teardown. */
export async function localBootstrap (t: Assert): Promise<LocalBootstrap> {
  const node = await runBootstrap({ host: '127.0.0.1' })
  t.teardown(() => node.close(), { order: 50 })
  return { bootstrap: `${node.host}:${node.port}`, host: node.host, port: node.port }
}

/** Environment for a wxs child process on the test's private network. */
export function netEnv (bootstrap: string | null | undefined, extra: Record<string, string> = {}): Record<string, string> {
  if (!bootstrap) throw new Error('network test without a local bootstrap: start one with localBootstrap(t); tests must never use the public DHT')
  return { WXS_BOOTSTRAP: bootstrap, WXS_NO_PUBLIC_BOOTSTRAP: '1', ...extra }
}

/** One peer: its own state dir and daemon, on the given private network. */
export interface NetPeer { home: string, run (args: string[], opts?: RunOptions): Promise<RunResult> }

export async function peer (t: Assert, net: LocalBootstrap): Promise<NetPeer> {
  const home = await stateDir(t)
  const env = netEnv(net.bootstrap)
  return { home, run: (args, opts = {}) => wxs(home, args, { ...opts, env: { ...env, ...opts.env } }) }
}

/** Runs a wxs command that must succeed; returns its parsed --json output. */
export async function ok (p: NetPeer, args: string[], opts?: RunOptions): Promise<any> {
  const r = await p.run([...args, '--json'], opts)
  if (r.code !== 0) throw new Error(`wxs ${args.join(' ')} exited ${r.code}: ${r.stderr.trim()}`)
  return r.json
}

/** Waits until `wxs peers <name>` shows at least `n` peers. */
export async function waitForPeers (p: NetPeer, name: string, n: number, timeoutMs = 20_000) {
  if (!await waitFor(async () => ((await ok(p, ['peers', name])).peers.length >= n), timeoutMs, 100)) throw new Error(`${name}: fewer than ${n} peer(s) after ${timeoutMs} ms`)
}

/** A mount point for `name` on peer `p`, unmounted (and detached if need be) before the daemons stop. */
export async function mountDir (t: Assert, p: NetPeer, name: string) {
  const dir = await tmpDir(t, `wxs-mnt-${name}-`)
  t.teardown(async () => {
    await p.run(['unmount', name]).catch(() => null)
    await run('fusermount', ['-uz', dir]).catch(() => null)
  }, { order: -1 })
  return dir
}
