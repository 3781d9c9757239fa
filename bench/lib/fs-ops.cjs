'use strict'
/**
 * `bench fs` in-process ops: one Node process doing <perKind> each of
 * create (open O_CREAT|O_EXCL + close), stat, readdir (of a 10-entry
 * directory) and unlink with synchronous fs calls, in its working directory
 * (the target's scratch dir; this process never serves a mount).
 * Prints JSON: { perKind, usPerOp, phases: { create, stat, readdir, unlink } } (µs).
 */
const fs = require('node:fs')

const FILES_PER_DIR = 10
const perKind = Number(process.argv[2])
const dirs = Math.ceil(perKind / FILES_PER_DIR)
for (let d = 0; d < dirs; d++) fs.mkdirSync(`d${d}`)
const file = i => `d${Math.floor(i / FILES_PER_DIR)}/f${i % FILES_PER_DIR}`

const phases = {}
function phase (name, fn) {
  const started = process.hrtime.bigint()
  for (let i = 0; i < perKind; i++) fn(i)
  phases[name] = Number(process.hrtime.bigint() - started) / 1e3 / perKind
}

phase('create', i => fs.closeSync(fs.openSync(file(i), 'wx')))
phase('stat', i => fs.statSync(file(i)))
phase('readdir', i => { if (fs.readdirSync(`d${i % dirs}`).length !== FILES_PER_DIR && perKind % FILES_PER_DIR === 0) throw new Error('readdir: wrong entry count') })
phase('unlink', i => fs.unlinkSync(file(i)))

const values = Object.values(phases)
process.stdout.write(JSON.stringify({ perKind, usPerOp: values.reduce((a, b) => a + b, 0) / values.length, phases }) + '\n')
