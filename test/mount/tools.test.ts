// Real tools inside a mounted workspace, driven from child processes.
import test, { configure } from 'brittle'
import fs from 'node:fs/promises'
import path from 'node:path'
import { stateDir, tmpDir, wxs, sh, mountedWorkspace, writeTree, compareTrees } from '../helpers/index.js'

configure({ timeout: 300_000 })

const GIT = 'git -c user.name=t -c user.email=t@example.com -c init.defaultBranch=main'

test('git init, add, commit, status, log, branch, checkout inside the mount', async t => {
  const home = await stateDir(t)
  const dir = await mountedWorkspace(t, home, 'repo')
  const r = await sh(`
    ${GIT} init -q .
    mkdir -p src && for i in $(seq 1 50); do echo "line $i" > src/f$i.txt; done
    ${GIT} add -A && ${GIT} commit -qm first
    test -z "$(${GIT} status --porcelain)"
    ${GIT} checkout -qb feature
    echo changed > src/f1.txt && rm src/f2.txt && echo new > src/new.txt
    ${GIT} add -A && ${GIT} commit -qm second
    ${GIT} checkout -q main
    cat src/f1.txt; test -f src/f2.txt; test ! -e src/new.txt
    ${GIT} branch --list | tr -d ' *' | sort | tr '\\n' , ; echo
    ${GIT} log --oneline feature | wc -l
    ${GIT} fsck --no-progress 2>&1 | grep -v '^dangling' || true
  `, { cwd: dir })
  t.is(r.code, 0, r.stderr)
  const lines = r.stdout.trim().split('\n')
  t.is(lines[0], 'line 1', 'checkout restored the file')
  t.is(lines[1], 'feature,main,')
  t.is(lines[2].trim(), '2')
})

test('git clone of a local repository into the mount', async t => {
  const home = await stateDir(t)
  const work = await tmpDir(t)
  const origin = path.join(work, 'origin')
  const made = await sh(`mkdir -p "${origin}" && cd "${origin}" && ${GIT} init -q . && for i in $(seq 1 30); do echo $i > f$i; done && ${GIT} add -A && ${GIT} commit -qm one && ${GIT} tag v1`)
  t.is(made.code, 0, made.stderr)
  const dir = await mountedWorkspace(t, home, 'clones')
  const r = await sh(`${GIT} clone -q "${origin}" copy && cd copy && ${GIT} log --oneline | wc -l && ${GIT} tag && ${GIT} status --porcelain | wc -l && ${GIT} fsck --no-progress --strict`, { cwd: dir })
  t.is(r.code, 0, r.stderr)
  t.alike(r.stdout.trim().split('\n').map(s => s.trim()), ['1', 'v1', '0'])
  const same = await sh(`diff -r --exclude=.git "${origin}" "${dir}/copy"`)
  t.is(same.code, 0, `the clone's files equal the origin's: ${same.stdout}`)
})

test('npm install of a local tarball (offline) and running what it installed', async t => {
  const home = await stateDir(t)
  const work = await tmpDir(t)
  const pkg = path.join(work, 'hello-pkg')
  await writeTree(pkg, {
    'package.json': JSON.stringify({ name: 'hello-pkg', version: '1.0.0', bin: { 'hello-pkg': 'cli.js' }, main: 'index.js' }),
    'index.js': 'module.exports = () => "hello from the package"\n',
    'cli.js': { mode: 0o755, content: '#!/usr/bin/env node\nconsole.log(require("./index.js")())\n' }
  })
  const packed = await sh('npm pack --silent', { cwd: pkg })
  t.is(packed.code, 0, packed.stderr)
  const tarball = path.join(pkg, packed.stdout.trim().split('\n').pop()!)
  const dir = await mountedWorkspace(t, home, 'app')
  const r = await sh(`npm init -y >/dev/null && npm install --offline --no-audit --no-fund "${tarball}" >/dev/null && npx --offline hello-pkg && node -e 'console.log(require("hello-pkg")())'`, { cwd: dir })
  t.is(r.code, 0, r.stderr)
  t.alike(r.stdout.trim().split('\n'), ['hello from the package', 'hello from the package'])
})

test('editor save, sed -i, chmod +x, symlinks, tar round trip', async t => {
  const home = await stateDir(t)
  const dir = await mountedWorkspace(t, home, 'edits')
  const r = await sh(`
    printf 'one\\ntwo\\n' > notes.txt
    printf 'ONE\\nTWO\\n' > .notes.txt.swp && mv .notes.txt.swp notes.txt
    sed -i 's/TWO/deux/' notes.txt
    cat notes.txt | tr '\\n' , ; echo
    printf '#!/bin/sh\\necho script ran\\n' > run.sh && chmod +x run.sh && ./run.sh
    ln -s notes.txt link && readlink link && cat link | head -1
    ln -s ../outside dangling && readlink dangling
  `, { cwd: dir })
  t.is(r.code, 0, r.stderr)
  t.alike(r.stdout.trim().split('\n'), ['ONE,deux,', 'script ran', 'notes.txt', 'ONE', '../outside'])

  const work = await tmpDir(t)
  const src = path.join(work, 'src')
  await writeTree(src, { a: { 'x.txt': 'x\n', b: { 'y.bin': Buffer.alloc(300_000, 7) } }, 'exec.sh': { mode: 0o755, content: 'echo\n' }, l: { link: 'a/x.txt' } })
  const tar1 = path.join(work, 'one.tar')
  const tar2 = path.join(work, 'two.tar')
  const tr = await sh(`tar -C "${src}" -cf "${tar1}" . && mkdir t && tar -C t -xf "${tar1}" && tar -C t -cf "${tar2}" . && cmp "${tar1}" "${tar2}"`, { cwd: dir })
  t.is(tr.code, 0, `tar re-created byte-equal: ${tr.stderr}`)
  const ref = path.join(work, 'ref')
  t.is((await sh(`mkdir "${ref}" && tar -C "${ref}" -xf "${tar1}"`)).code, 0)
  t.is(await compareTrees(ref, path.join(dir, 't')), '', 'extracted tree equals the same extraction on disk (modes, mtimes, links)')
})

test('64 MiB of random-offset writes match the same writes on ext4', async t => {
  const home = await stateDir(t)
  const dir = await mountedWorkspace(t, home, 'rand')
  const disk = await tmpDir(t)
  const script = path.join(disk, 'writes.js')
  await fs.writeFile(script, `
    const fs = require('fs'); const crypto = require('crypto')
    const [file, seed] = [process.argv[2], 42]
    let x = seed; const rnd = n => { x = (x * 1103515245 + 12345) % 2147483648; return x % n }
    const fd = fs.openSync(file, 'w+')
    let total = 0
    while (total < 64 * 1024 * 1024) {
      const len = 1 + rnd(256 * 1024); const buf = Buffer.alloc(len, rnd(256))
      fs.writeSync(fd, buf, 0, len, rnd(80 * 1024 * 1024)); total += len
    }
    fs.ftruncateSync(fd, 70 * 1024 * 1024 + 123)
    fs.writeSync(fd, Buffer.from('tail'), 0, 4, 90 * 1024 * 1024)
    fs.fsyncSync(fd); fs.closeSync(fd)
  `)
  const r = await sh(`node "${script}" "${dir}/big.bin" && node "${script}" "${disk}/big.bin" && cmp "${dir}/big.bin" "${disk}/big.bin" && stat -c %s "${dir}/big.bin"`)
  t.is(r.code, 0, r.stderr)
  t.is(r.stdout.trim(), String(90 * 1024 * 1024 + 4))
  const committed = await wxs(home, ['commit', 'rand', '--json'])
  t.is(committed.code, 0)
  const out = path.join(disk, 'export')
  t.is((await wxs(home, ['export', 'rand', out])).code, 0)
  t.is((await sh(`cmp "${out}/big.bin" "${disk}/big.bin"`)).code, 0, 'the committed file equals the ext4 copy')
})
