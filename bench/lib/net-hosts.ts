/**
 * Hosts for `bench net`'s uplink scenario: network namespaces joined by a
 * bridge in the root namespace (10.233.X.0/24; the bridge is .254, host i is
 * .i+1), each host's egress optionally shaped by `tc tbf` to a fixed rate, so a
 * seeder's upload is the bottleneck, as on a real network, instead of the CPUs
 * that every daemon on one loopback shares. Needs root and iproute2 (CI has
 * both); deleted by close(), also after a failure.
 */
import { randomBytes, randomInt } from 'node:crypto'
import { mustSpawn, spawnAsync } from './proc.js'

export interface Host { ns: string, addr: string, dev: string }
export interface Hosts { bridgeAddr: string, hosts: Host[], close (): Promise<void> }

const ip = (args: string[]) => mustSpawn('ip', args, { timeoutMs: 10_000 })

/** `caps[i]`: egress rate of host i in Mbit/s, or null for none. */
export async function makeHosts (caps: Array<number | null>): Promise<Hosts> {
  const tag = randomBytes(3).toString('hex')
  const subnet = `10.233.${randomInt(1, 254)}`
  const bridge = `wxsbr${tag}`
  const hosts: Host[] = []
  const close = async () => {
    for (const h of hosts) await spawnAsync('ip', ['netns', 'del', h.ns], { timeoutMs: 10_000 }).catch(() => null)
    await spawnAsync('ip', ['link', 'del', bridge], { timeoutMs: 10_000 }).catch(() => null)
  }
  try {
    await ip(['link', 'add', bridge, 'type', 'bridge'])
    await ip(['addr', 'add', `${subnet}.254/24`, 'dev', bridge])
    await ip(['link', 'set', bridge, 'up'])
    for (let i = 0; i < caps.length; i++) {
      const h: Host = { ns: `wxs-bench-${tag}-${i}`, addr: `${subnet}.${i + 1}`, dev: `wxh${tag}${i}` }
      const outer = `wxb${tag}${i}`
      await ip(['netns', 'add', h.ns])
      hosts.push(h)
      await ip(['-n', h.ns, 'link', 'set', 'lo', 'up'])
      await ip(['link', 'add', outer, 'type', 'veth', 'peer', 'name', h.dev, 'netns', h.ns])
      await ip(['link', 'set', outer, 'master', bridge])
      await ip(['link', 'set', outer, 'up'])
      await ip(['-n', h.ns, 'addr', 'add', `${h.addr}/24`, 'dev', h.dev])
      await ip(['-n', h.ns, 'link', 'set', h.dev, 'up'])
      const cap = caps[i]
      if (cap !== null) await mustSpawn('ip', ['netns', 'exec', h.ns, 'tc', 'qdisc', 'add', 'dev', h.dev, 'root', 'tbf', 'rate', `${cap}mbit`, 'burst', '256kbit', 'latency', '50ms'], { timeoutMs: 10_000 })
    }
    return { bridgeAddr: `${subnet}.254`, hosts, close }
  } catch (err) {
    await close()
    throw err
  }
}
