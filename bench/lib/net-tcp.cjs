#!/usr/bin/env node
// The raw baseline of `bench net`: a plain TCP copy of a directory tree over
// loopback with the node net module, in two processes like two peers.
//   node net-tcp.cjs recv <destFile>       listens on 127.0.0.1:0, prints {"port":N}, receives one
//                                          stream, appends every file's bytes to destFile (one
//                                          stream, as wxs appends objects to a pack), prints
//                                          {"files":N,"bytes":N} and exits
//   node net-tcp.cjs send <port> <srcDir>  walks srcDir and sends every regular file
// Frame per file: u32 path length, path (utf8), u64 size, the file's bytes.
// Nothing is fsynced; files are read in 1 MiB pieces. Not a file per file on the
// receiving side: creating 10k files on this VM's disk takes 0.3-8 s depending on
// writeback, which would make the baseline measure the disk, not the transfer.
'use strict'
const fs = require('node:fs')
const net = require('node:net')
const path = require('node:path')

const PIECE = 1024 * 1024

function walk (root, rel, out) {
  for (const d of fs.readdirSync(path.join(root, rel), { withFileTypes: true }).sort((a, b) => a.name < b.name ? -1 : 1)) {
    const r = rel ? rel + '/' + d.name : d.name
    if (d.isDirectory()) walk(root, r, out)
    else if (d.isFile()) out.push(r)
  }
  return out
}

async function send (port, src) {
  const files = walk(src, '', [])
  const sock = net.connect({ host: '127.0.0.1', port })
  await new Promise((resolve, reject) => { sock.once('connect', resolve); sock.once('error', reject) })
  sock.setNoDelay(true)
  const write = buf => sock.write(buf) ? null : new Promise(resolve => sock.once('drain', resolve))
  for (const rel of files) {
    const name = Buffer.from(rel)
    const fd = fs.openSync(path.join(src, rel), 'r')
    try {
      const size = fs.fstatSync(fd).size
      const head = Buffer.allocUnsafe(12 + name.byteLength)
      head.writeUInt32BE(name.byteLength, 0)
      name.copy(head, 4)
      head.writeBigUInt64BE(BigInt(size), 4 + name.byteLength)
      let wait = write(head)
      if (wait) await wait
      for (let at = 0; at < size; at += PIECE) {
        const buf = Buffer.allocUnsafe(Math.min(PIECE, size - at))
        let n = 0
        while (n < buf.byteLength) n += fs.readSync(fd, buf, n, buf.byteLength - n, at + n)
        wait = write(buf)
        if (wait) await wait
      }
    } finally {
      fs.closeSync(fd)
    }
  }
  await new Promise(resolve => sock.end(resolve))
}

function recv (dest) {
  const out = fs.openSync(dest, 'wx')
  const server = net.createServer(sock => {
    server.close()
    let pending = []
    let pendingBytes = 0
    let inFile = false
    let left = 0
    let files = 0
    let bytes = 0
    const take = n => {
      const all = pending.length === 1 ? pending[0] : Buffer.concat(pending)
      pending = all.byteLength > n ? [all.subarray(n)] : []
      pendingBytes -= n
      return all.subarray(0, n)
    }
    sock.on('data', chunk => {
      pending.push(chunk)
      pendingBytes += chunk.byteLength
      while (true) {
        if (inFile) {
          if (pendingBytes === 0) return
          const piece = take(Math.min(left, pendingBytes))
          let n = 0
          while (n < piece.byteLength) n += fs.writeSync(out, piece, n, piece.byteLength - n)
          left -= piece.byteLength
          bytes += piece.byteLength
          if (left === 0) { inFile = false; files++ }
          continue
        }
        if (pendingBytes < 4) return
        const peek = pending.length === 1 ? pending[0] : Buffer.concat(pending)
        pending = [peek]
        const nameLen = peek.readUInt32BE(0)
        if (pendingBytes < 12 + nameLen) return
        const head = take(12 + nameLen)
        left = Number(head.readBigUInt64BE(4 + nameLen))
        if (left === 0) files++
        else inFile = true
      }
    })
    sock.on('end', () => {
      fs.closeSync(out)
      if (inFile || pendingBytes !== 0) { process.stderr.write('stream ended inside a file\n'); process.exit(1) }
      process.stdout.write(JSON.stringify({ files, bytes }) + '\n')
      process.exit(0)
    })
    sock.on('error', err => { process.stderr.write(err.message + '\n'); process.exit(1) })
  })
  server.listen(0, '127.0.0.1', () => process.stdout.write(JSON.stringify({ port: server.address().port }) + '\n'))
}

const [mode, a, b] = process.argv.slice(2)
if (mode === 'send') send(Number(a), b).catch(err => { process.stderr.write(err.stack + '\n'); process.exit(1) })
else if (mode === 'recv') recv(a)
else { process.stderr.write('usage: net-tcp.cjs recv <destDir> | send <port> <srcDir>\n'); process.exit(2) }
