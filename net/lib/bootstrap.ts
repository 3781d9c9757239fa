/**
 * A DHT bootstrap for a private network (`wxs bootstrap`): the first node
 * listens on the given host:port and is what peers pass as --bootstrap. A DHT
 * needs a few persistent nodes to hold announcements (measured here: with a
 * single node, two peers announcing and looking up one topic never find each
 * other; with two or more they connect within ~50 ms), so it runs `nodes`
 * persistent nodes in one process.
 */
import DHT from 'hyperdht'
import { freeUdpPort } from './ports.js'

export interface BootstrapHandle { host: string, port: number, nodes: number, close (): Promise<void> }

export async function runBootstrap (opts: { host?: string, port?: number, nodes?: number } = {}): Promise<BootstrapHandle> {
  const host = opts.host ?? '127.0.0.1'
  const count = Math.max(2, opts.nodes ?? 3)
  const bind = host === '127.0.0.1' || host === 'localhost' ? '127.0.0.1' : host
  const nodes: DHT[] = []
  const close = async () => { for (const n of nodes.reverse()) await n.destroy().catch(() => {}) }
  try {
    const first = new DHT({ ephemeral: false, firewalled: false, bootstrap: [], port: opts.port ?? await freeUdpPort(bind), host: bind })
    nodes.push(first)
    await first.fullyBootstrapped()
    const port = first.address().port
    const bootstrap = [{ host: bind, port }]
    while (nodes.length < count) {
      const node = new DHT({ ephemeral: false, firewalled: false, bootstrap, host: bind, port: await freeUdpPort(bind) })
      nodes.push(node)
      await node.fullyBootstrapped()
    }
    return { host: bind, port, nodes: nodes.length, close }
  } catch (err) {
    await close()
    throw err
  }
}
