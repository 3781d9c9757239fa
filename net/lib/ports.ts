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
