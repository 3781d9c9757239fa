import os from 'node:os'
import path from 'node:path'

export interface Paths { home: string, socket: string, pid: string, log: string }

/** State directory layout: `$WXS_HOME` or `~/.wxs`. */
export function statePaths (env = process.env): Paths {
  const home = path.resolve(env.WXS_HOME || path.join(os.homedir(), '.wxs'))
  return {
    home,
    socket: path.join(home, 'daemon.sock'),
    pid: path.join(home, 'daemon.pid'),
    log: path.join(home, 'daemon.log')
  }
}
