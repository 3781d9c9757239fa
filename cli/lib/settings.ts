/**
 * Per-workspace settings of this machine (cli/messages.ts: settings.json), read
 * once by the daemon and written through on every change (durably: a crash
 * keeps the last whole file).
 */
import fs from 'node:fs/promises'
import path from 'node:path'
import { writeFileDurable } from '../../core/index.js'
import { DEFAULT_SETTINGS, SETTING_KEYS, formatSettings, parseSettings, type WorkspaceSettings } from '../messages.js'
import { CliError } from './errors.js'

export class Settings {
  private readonly file: string
  private byName: Record<string, Partial<WorkspaceSettings>> = {}
  private readonly listeners: Array<(name: string) => void> = []

  constructor (home: string) {
    this.file = path.join(home, 'settings.json')
  }

  async ready () {
    const text = await fs.readFile(this.file, 'utf8').catch(err => { if (err.code === 'ENOENT') return null; throw err })
    this.byName = text === null ? {} : parseSettings(text)
  }

  /** Every setting of a workspace, defaults filled in. */
  of (name: string): WorkspaceSettings {
    return { ...DEFAULT_SETTINGS, ...this.byName[name] }
  }

  /** Which settings of a workspace differ from the default. */
  changed (name: string): Array<keyof WorkspaceSettings> {
    return Object.keys(this.byName[name] ?? {}) as Array<keyof WorkspaceSettings>
  }

  /** Sets one (a value as `wxs config` takes it: on/off, 10m, a count; "default" drops it). */
  async set (name: string, key: string, text: string) {
    const k = settingKey(key)
    const own = { ...this.byName[name] }
    if (text === 'default') delete own[k]
    else (own as Record<string, unknown>)[k] = parseValue(k, text)
    this.byName = { ...this.byName, [name]: own }
    await writeFileDurable(this.file, Buffer.from(formatSettings(this.byName)))
    for (const fn of this.listeners) fn(name)
  }

  /** Forgets a removed workspace's settings. */
  async remove (name: string) {
    if (!(name in this.byName)) return
    const { [name]: _gone, ...rest } = this.byName
    this.byName = rest
    await writeFileDurable(this.file, Buffer.from(formatSettings(this.byName)))
    for (const fn of this.listeners) fn(name)
  }

  onChange (fn: (name: string) => void) { this.listeners.push(fn) }
}

export function settingKey (key: string): keyof WorkspaceSettings {
  if (!(SETTING_KEYS as string[]).includes(key)) throw CliError.USAGE(`unknown setting "${key}"; the settings are ${SETTING_KEYS.join(', ')}`, 'config')
  return key as keyof WorkspaceSettings
}

function parseValue (key: keyof WorkspaceSettings, text: string): unknown {
  if (key === 'audit' || key === 'snapshot.before-exec') {
    if (text === 'on' || text === 'true') return true
    if (text === 'off' || text === 'false') return false
    throw CliError.USAGE(`${key} is on or off, not ${JSON.stringify(text)}`, 'config')
  }
  if (key === 'snapshot.every') {
    if (text === 'off') return null
    const m = /^(\d+(?:\.\d+)?)(s|m|h)?$/.exec(text)
    const s = m === null ? NaN : Number(m[1]) * (m[2] === 'h' ? 3600 : m[2] === 'm' ? 60 : 1)
    if (!(s >= 10)) throw CliError.USAGE(`snapshot.every is a time of at least 10 s (30s, 10m, 1h) or off, not ${JSON.stringify(text)}`, 'config')
    return s
  }
  const n = Number(text)
  if (!/^\d+$/.test(text) || n < 1) throw CliError.USAGE(`snapshot.keep is a count of at least 1, not ${JSON.stringify(text)}`, 'config')
  return n
}

/** A setting as `wxs config` shows it. */
export function showValue (key: keyof WorkspaceSettings, value: unknown): string {
  if (typeof value === 'boolean') return value ? 'on' : 'off'
  if (key === 'snapshot.every') return value === null ? 'off' : duration(value as number)
  return String(value)
}

function duration (s: number) {
  if (s % 3600 === 0) return `${s / 3600}h`
  if (s % 60 === 0) return `${s / 60}m`
  return `${s}s`
}
