// settings.json (cli/messages.ts): the version-1 fixture reads, wrong values fall back to the default.
import test from 'brittle'
import fs from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseSettings, formatSettings } from '../../cli/messages.js'

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures')

test('settings.json version 1: reads, values of the wrong type left out, writes back; an unknown version throws', async t => {
  const parsed = parseSettings(await fs.readFile(path.join(fixtures, 'settings-v1.json'), 'utf8'))
  t.alike(parsed, { api: { audit: false, 'snapshot.every': 600, 'snapshot.keep': 5 }, web: { 'snapshot.before-exec': false } }, '"many" is not a count: left out')
  t.alike(parseSettings(formatSettings(parsed)), parsed, 'round trip')
  t.exception(() => parseSettings('{"v": 2, "workspaces": {}}'), /unsupported settings file version 2/)
})
