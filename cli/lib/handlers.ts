/**
 * Daemon-side handlers of the control protocol: validate params, call the
 * engine, return plain JSON. Paths arrive absolute (the client resolves them).
 */
import path from 'node:path'
import type { Monitor } from '../../core/index.js'
import type { Engine } from '../../manifests/index.js'
import { CliError } from './errors.js'
import type { Paths } from './paths.js'

export interface HandlerContext { engine: Engine, paths: Paths, started: number, stop: () => Promise<void> }
interface CallContext extends HandlerContext { monitorFor (op: string): Monitor }
type Params = Record<string, unknown>
type Handler = (params: Params, ctx: CallContext) => Promise<unknown>

export const handlers: Record<string, Handler> = {
  async create (p, { engine, monitorFor }) {
    const from = optionalPath(p, 'from')
    const monitor = from ? monitorFor('import') : undefined
    return finish(monitor, await engine.create(str(p, 'name'), { from, message: optionalStr(p, 'message'), monitor }))
  },
  async import (p, { engine, monitorFor }) {
    const monitor = monitorFor('import')
    return finish(monitor, await engine.importDir(str(p, 'name'), requiredPath(p, 'dir'), { message: optionalStr(p, 'message'), monitor }))
  },
  fork: (p, { engine }) => engine.fork(str(p, 'source'), str(p, 'name'), { at: optionalStr(p, 'at') }),
  list: (_p, { engine }) => engine.list(),
  info: (p, { engine }) => engine.info(str(p, 'name')),
  snapshot: (p, { engine }) => engine.snapshot(str(p, 'name'), optionalStr(p, 'label')),
  log: (p, { engine }) => engine.log(str(p, 'name'), { limit: optionalInt(p, 'limit') }),
  diff: (p, { engine }) => engine.diff(str(p, 'name'), optionalStr(p, 'from'), optionalStr(p, 'to')),
  restore: (p, { engine }) => engine.restore(str(p, 'name'), str(p, 'ref')),
  async export (p, { engine, monitorFor }) {
    const monitor = monitorFor('export')
    return finish(monitor, await engine.export(str(p, 'name'), requiredPath(p, 'dir'), { at: optionalStr(p, 'at'), monitor }))
  },
  rm: (p, { engine }) => engine.remove(str(p, 'name')),
  async gc (_p, { engine, monitorFor }) {
    const monitor = monitorFor('gc')
    return finish(monitor, await engine.gc({ monitor }))
  },
  async fsck (_p, { engine, monitorFor }) {
    const monitor = monitorFor('fsck')
    return finish(monitor, await engine.fsck({ monitor }))
  },
  stats: (_p, { engine }) => engine.stats(),
  async 'daemon.status' (_p, { paths, started }) {
    return { running: true, pid: process.pid, socket: paths.socket, home: paths.home, startedAt: started, uptimeMs: Date.now() - started, mounts: [] }
  },
  async 'daemon.stop' () {
    return { stopping: true, pid: process.pid }
  }
}

function finish<T> (monitor: Monitor | undefined, result: T): T {
  monitor?.finish()
  return result
}

function str (p: Params, key: string): string {
  const v = p[key]
  if (typeof v !== 'string' || v.length === 0) throw CliError.USAGE(`missing ${key}`)
  return v
}

function optionalStr (p: Params, key: string): string | undefined {
  const v = p[key]
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'string') throw CliError.USAGE(`${key} must be a string`)
  return v
}

function optionalInt (p: Params, key: string): number | undefined {
  const v = p[key]
  if (v === undefined || v === null) return undefined
  if (!Number.isInteger(v) || (v as number) < 0) throw CliError.USAGE(`${key} must be a non-negative integer`)
  return v as number
}

function requiredPath (p: Params, key: string): string {
  const v = str(p, key)
  if (!path.isAbsolute(v)) throw CliError.USAGE(`${key} must be an absolute path`)
  return v
}

function optionalPath (p: Params, key: string): string | undefined {
  return p[key] === undefined || p[key] === null ? undefined : requiredPath(p, key)
}
