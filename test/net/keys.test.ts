// What users type: workspace keys (hex or z-base-32, optionally @snapshot) and
// bootstrap lists. Anything else is a NetError with a stable code.
import test from 'brittle'
import { encode as encodeId } from 'hypercore-id-encoding'
import { parseKey, parseJoinTarget, parseBootstrap, formatBootstrap, NetError } from '../../net/index.js'

const key = Buffer.from('00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff', 'hex')
const hex = key.toString('hex')
const z32 = encodeId(key)

/** The NetError code `fn` throws (fails the test if it throws anything else or nothing). */
function codeOf (t: any, fn: () => unknown, what: string): string | null {
  try {
    fn()
  } catch (err) {
    if (!(err instanceof NetError)) { t.fail(`${what}: threw a ${(err as Error)?.name} instead of a NetError: ${(err as Error)?.message}`); return null }
    t.ok(err.message.startsWith(err.code + ': '), `${what}: message is "CODE: detail"`)
    return err.code
  }
  return null
}

test('parseKey: 64 hex characters, either case, surrounding blanks ignored', t => {
  t.alike(parseKey(hex), key)
  t.alike(parseKey(hex.toUpperCase()), key)
  t.alike(parseKey(`  ${hex}\n`), key)
})

test('parseKey: 52 z-base-32 characters', t => {
  t.is(z32.length, 52)
  t.alike(parseKey(z32), key)
  t.alike(parseKey(encodeId(Buffer.alloc(32))), Buffer.alloc(32))
})

test('parseKey: wrong lengths and garbage are BAD_KEY', t => {
  const bad: Array<[string, string]> = [
    ['empty', ''],
    ['blank', '   '],
    ['62 hex', hex.slice(2)],
    ['66 hex', hex + 'ab'],
    ['1 hex', 'a'],
    ['128 hex', hex + hex],
    ['51 z32', z32.slice(1)],
    ['53 z32', z32 + 'y'],
    ['64 chars, not hex', 'g'.repeat(64)],
    ['64 chars, hex with a space inside', hex.slice(0, 30) + ' ' + hex.slice(31)],
    ['52 chars outside the z-base-32 alphabet', '!'.repeat(52)],
    ['52 chars with a "0" (not in z-base-32)', '0' + z32.slice(1)],
    ['52 chars upper case z-base-32', z32.toUpperCase()],
    ['a URL', 'https://example.com/' + hex],
    ['a huge input', 'x'.repeat(100_000)],
    ['NUL', '\0'.repeat(64)]
  ]
  for (const [what, input] of bad) t.is(codeOf(t, () => parseKey(input), what), 'BAD_KEY', what)
})

test('parseKey: a long bad input is cut in the message', t => {
  try {
    parseKey('x'.repeat(10_000))
    t.fail('accepted')
  } catch (err) {
    t.ok((err as Error).message.length < 400, 'message stays short')
  }
})

test('parseJoinTarget: key, key@label, in both key forms', t => {
  t.alike(parseJoinTarget(hex), { key, pin: null })
  t.alike(parseJoinTarget(`${hex}@v1.0`), { key, pin: 'v1.0' })
  t.alike(parseJoinTarget(`${z32}@before-refactor`), { key, pin: 'before-refactor' })
  t.alike(parseJoinTarget(`${hex}@snap-20240101T000000Z`), { key, pin: 'snap-20240101T000000Z' })
  t.alike(parseJoinTarget(`${hex}@a@b`), { key, pin: 'a@b' }, 'only the first "@" separates (labels may contain "@")')
})

test('parseJoinTarget: bad labels and bad keys are BAD_KEY', t => {
  const bad: Array<[string, string]> = [
    ['empty label', `${hex}@`],
    ['all-digit label (a commit number)', `${hex}@12`],
    ['"head"', `${hex}@head`],
    ['"HEAD"', `${hex}@HEAD`],
    ['label with a slash', `${hex}@a/b`],
    ['label with a space', `${hex}@a b`],
    ['label starting with a dot', `${hex}@.hidden`],
    ['label with ..', `${hex}@../x`],
    ['label with NUL', `${hex}@a\0b`],
    ['label too long', `${hex}@${'a'.repeat(129)}`],
    ['no key before @', '@v1'],
    ['short key with a good label', `${hex.slice(1)}@v1`],
    ['garbage key with a good label', 'nope@v1']
  ]
  for (const [what, input] of bad) t.is(codeOf(t, () => parseJoinTarget(input), what), 'BAD_KEY', what)
  t.alike(parseJoinTarget(`${hex}@${'a'.repeat(128)}`).pin, 'a'.repeat(128), '128 characters is the longest label')
})

test('parseBootstrap: host:port lists, IPv6 in brackets, blanks and empty parts ignored', t => {
  t.alike(parseBootstrap('127.0.0.1:49737'), [{ host: '127.0.0.1', port: 49737 }])
  t.alike(parseBootstrap(' 127.0.0.1:1 , node.example:65535,'), [{ host: '127.0.0.1', port: 1 }, { host: 'node.example', port: 65535 }])
  t.alike(parseBootstrap('[::1]:49737'), [{ host: '::1', port: 49737 }])
  t.is(formatBootstrap(parseBootstrap('127.0.0.1:1,localhost:2')), '127.0.0.1:1,localhost:2')
})

test('parseBootstrap: what formatBootstrap writes parses back (IPv6 too)', t => {
  for (const input of ['127.0.0.1:49737', '127.0.0.1:1,localhost:2', '[::1]:49737', '[fe80::1]:1,10.0.0.1:2']) {
    const list = parseBootstrap(input)
    let again = null
    try { again = parseBootstrap(formatBootstrap(list)) } catch (err) { t.fail(`${input}: ${formatBootstrap(list)} does not parse back: ${(err as Error).message}`) }
    t.alike(again, list, input)
  }
})

test('parseBootstrap: bad ports, missing ports and empty lists are BAD_BOOTSTRAP', t => {
  const bad: Array<[string, string]> = [
    ['empty', ''],
    ['only commas', ' , ,'],
    ['no port', '127.0.0.1'],
    ['empty port', '127.0.0.1:'],
    ['port 0', '127.0.0.1:0'],
    ['port 65536', '127.0.0.1:65536'],
    ['port 99999', 'host:99999'],
    ['6-digit port', 'host:123456'],
    ['negative port', 'host:-1'],
    ['port with letters', 'host:80a'],
    ['hex port', 'host:0x50'],
    ['fractional port', 'host:80.5'],
    ['no host', ':49737'],
    ['two colons', 'a:1:2'],
    ['bare IPv6', '::1:49737'],
    ['one good, one bad', '127.0.0.1:1,127.0.0.1:0'],
    ['one good, one without port', '127.0.0.1:1,localhost']
  ]
  for (const [what, input] of bad) t.is(codeOf(t, () => parseBootstrap(input), what), 'BAD_BOOTSTRAP', what)
})
