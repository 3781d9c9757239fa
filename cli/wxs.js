#!/usr/bin/env node
// The `wxs` command. Runs the compiled build (dist/) when present, else the
// TypeScript sources through tsx (development checkouts).
import { existsSync } from 'node:fs'
import { fileURLToPath, pathToFileURL } from 'node:url'

const compiled = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url))
if (existsSync(compiled)) {
  const { main } = await import(pathToFileURL(compiled).href)
  await main(process.argv.slice(2))
} else {
  const { register } = await import('tsx/esm/api')
  register()
  const { main } = await import('./main.ts')
  await main(process.argv.slice(2))
}
