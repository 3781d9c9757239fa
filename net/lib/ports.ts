/**
 * HyperDHT binds UDP 49737 by default (then the next free port). On one host
 * running several private DHTs (tests, benches, demos) that default is shared:
 * a port freed by one network's node is soon taken by another network's node,
 * the first network's routing tables still point at it, and the networks bleed
 * into each other (seen here: joins stalling 15-30 s on a first connection to a
 * foreign node). Private networks therefore bind a port the OS picks.
 */
import dgram from 'node:dgram'

export function freeUdpPort (host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4')
    socket.once('error', reject)
    socket.bind(0, host, () => {
      const { port } = socket.address()
      socket.close(() => resolve(port))
    })
  })
}

/** The local address the kernel would use to reach `to` (connecting a UDP socket sends nothing). */
export function localAddressTowards (to: { host: string, port: number }): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket(to.host.includes(':') ? 'udp6' : 'udp4')
    socket.once('error', err => { socket.close(); reject(err) })
    socket.connect(to.port, to.host, () => {
      const { address } = socket.address()
      socket.close(() => resolve(address))
    })
  })
}

/** Loopback, RFC 1918, link-local, CGNAT and IPv6 ULA/link-local addresses. */
export function isPrivateAddress (host: string): boolean {
  const m = /^(\d+)\.(\d+)\.\d+\.\d+$/.exec(host)
  if (m) {
    const [a, b] = [Number(m[1]), Number(m[2])]
    return a === 10 || a === 127 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 169 && b === 254) || (a === 100 && b >= 64 && b <= 127)
  }
  const h = host.toLowerCase()
  return h === '::1' || h === 'localhost' || h.startsWith('fc') || h.startsWith('fd') || h.startsWith('fe80')
}
