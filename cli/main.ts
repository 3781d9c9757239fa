/**
 * `wxs` entry: parse, send one request to the daemon, print the result.
 * stdout carries results (JSON with --json); progress and warnings go to stderr.
 */
import { parseArgs } from 'node:util'
import { commands, type Command, type OptionSpec } from './lib/commands.js'
import { CliError, exitCodeFor, EXIT_FAILURE, EXIT_OK, EXIT_PARTIAL, EXIT_USAGE } from './lib/errors.js'
import * as show from './lib/render.js'
import { isAlive } from './lib/proc.js'

const VERSION = '0.1.0'
const COMMON: OptionSpec = {
  json: { type: 'boolean', description: 'print the result as JSON on stdout (progress as NDJSON on stderr)' },
  quiet: { type: 'boolean', short: 'q', description: 'no progress output' },
  help: { type: 'boolean', short: 'h', description: 'show this help' }
}

export async function main (argv: string[]) {
  // `wxs … | head` closes stdout early: that is not an error.
  process.stdout.on('error', err => { if ((err as NodeJS.ErrnoException).code === 'EPIPE') process.exit(process.exitCode ?? 0) })
  process.exitCode = await run(argv)
}

async function run (argv: string[]): Promise<number> {
  const [name, ...rest] = argv
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') return usage(rest[0])
  if (name === '--version' || name === '-v') { show.line(VERSION); return EXIT_OK }
  const dashes = rest.indexOf('--')
  const json = (dashes === -1 ? rest : rest.slice(0, dashes)).includes('--json') // not the --json of a command after --
  try {
    if (name === 'daemon') return await daemon(rest, json)
    const command = commands.find(c => c.name === name)
    if (!command) throw CliError.USAGE(`unknown command "${name}"`)
    return await runCommand(command, rest, json)
  } catch (err) {
    return fail(err, json)
  }
}

async function runCommand (command: Command, argv: string[], json: boolean): Promise<number> {
  const inv = parse(command.name, argv, command.options, command.args)
  if (inv.opts.help) return usage(command.name)
  if ('local' in command) return command.local(inv)
  const req = command.request(inv)
  const { Wxs } = await import('./lib/api.js')
  const renderer = req.progress ? await (await import('./lib/progress.js')).progressRenderer(req.progress, { json, quiet: !!inv.opts.quiet }) : null
  let result: any
  try {
    result = await new Wxs().request(req.method, req.params, { onProgress: p => renderer?.update(p), onStep: s => renderer?.step(s) })
  } finally {
    await renderer?.finish()
  }
  if (json) {
    show.line(JSON.stringify(result, null, 2))
    if (result?.problems?.length > 0 && !('ok' in result)) return EXIT_PARTIAL
    return result?.ok === false ? EXIT_FAILURE : EXIT_OK
  }
  const outcome = command.print(result, inv)
  return outcome === 'partial' ? EXIT_PARTIAL : outcome === 'failed' ? EXIT_FAILURE : EXIT_OK
}

function parse (name: string, argv: string[], spec: OptionSpec, [min, max]: [number, number]) {
  argv = optionalValues(argv, spec)
  let parsed
  try {
    parsed = parseArgs({ args: argv, options: { ...COMMON, ...spec } as any, allowPositionals: true, strict: true })
  } catch (err) {
    throw CliError.USAGE((err as Error).message.split('\n')[0], name)
  }
  const args = parsed.positionals
  const opts = parsed.values as Record<string, string | boolean | undefined>
  if (!opts.help && (args.length < min || args.length > max)) {
    throw CliError.USAGE(args.length < min ? 'missing argument' : `unexpected argument "${args[max]}"`, name)
  }
  return { args, opts, json: !!opts.json }
}

/** An option whose value is optional (`--mount [dir]`, `--wait [peer]`) may stand alone: give it an empty value then. */
function optionalValues (argv: string[], spec: OptionSpec): string[] {
  const optional = new Set(Object.entries(spec).filter(([, o]) => o.optional).map(([k]) => `--${k}`))
  if (optional.size === 0) return argv
  return argv.map((a, i) => optional.has(a) && (i === argv.length - 1 || argv[i + 1].startsWith('-') || argv.slice(0, i).filter(x => !x.startsWith('-')).length === 0) ? `${a}=` : a)
}

async function daemon (argv: string[], json: boolean): Promise<number> {
  const sub = argv[0]
  const inv = parse('daemon', argv.slice(1), {}, [0, 0])
  if (inv.opts.help || sub === undefined) return usage('daemon')
  if (sub === 'run') {
    const { daemonMain } = await import('./lib/daemon.js')
    await daemonMain()
    return EXIT_OK
  }
  const { Wxs } = await import('./lib/api.js')
  const wxs = new Wxs()
  const { statePaths } = await import('./lib/paths.js')
  const paths = statePaths()
  if (sub === 'start' || sub === 'status') {
    const status: any = await wxs.request('daemon.status', {}, { autostart: sub === 'start' }).catch(err => {
      if (err instanceof CliError && err.code === 'NOT_RUNNING') return { running: false, home: paths.home, socket: paths.socket }
      throw err
    })
    if (json) show.line(JSON.stringify(status, null, 2))
    else show.daemonStatus(status)
    return status.running ? EXIT_OK : EXIT_FAILURE
  }
  if (sub === 'stop') {
    const result: any = await wxs.request('daemon.stop', {}, { autostart: false }).catch(err => {
      if (err instanceof CliError && err.code === 'NOT_RUNNING') return { stopping: false, running: false }
      throw err
    })
    if (result.stopping) await waitGone(paths.socket, result.pid)
    if (json) show.line(JSON.stringify(result, null, 2))
    else show.line(result.stopping ? `stopped daemon ${result.pid}` : 'no daemon was running')
    return EXIT_OK
  }
  throw CliError.USAGE(`unknown daemon command "${sub}"`, 'daemon')
}

/** Waits (up to 10 s) until the daemon removed its socket and its process is gone. */
async function waitGone (socket: string, pid: number) {
  const { existsSync } = await import('node:fs')
  const alive = () => isAlive(pid)
  for (let i = 0; i < 400 && (existsSync(socket) || alive()); i++) await new Promise(resolve => setTimeout(resolve, 25))
}

function fail (err: unknown, json: boolean): number {
  const e = err as Error & { code?: string }
  const code = e.code ?? 'INTERNAL'
  const message = e.message ?? String(err)
  if (json) show.line(JSON.stringify({ error: { code, message } }, null, 2))
  process.stderr.write(`wxs: ${message}\n`)
  if (code === 'INTERNAL' && e.stack) process.stderr.write(e.stack + '\n')
  return exitCodeFor(code)
}

function usage (name?: string): number {
  const command = commands.find(c => c.name === name)
  if (name === 'daemon') {
    show.line('usage: wxs daemon start|stop|status|run\n\n  start   start the daemon for this state dir (WXS_HOME or ~/.wxs) if not running\n  stop    stop it (unmounting cleanly)\n  status  pid, socket, uptime, mounts; exit 1 when not running\n  run     serve in the foreground (what `start` launches)')
    return EXIT_OK
  }
  if (command) {
    show.line(`usage: ${command.usage}\n\n${command.summary}.${command.details ? '\n' + command.details : ''}\n\noptions:`)
    const flags = Object.entries({ ...command.options, ...COMMON }).map(([key, o]) => [`${o.short ? `-${o.short}, ` : '    '}--${key}${o.value ? (o.optional ? ` [${o.value}]` : ` <${o.value}>`) : ''}`, o.description])
    const width = Math.max(24, ...flags.map(([flag]) => flag.length))
    for (const [flag, description] of flags) show.line(`  ${flag.padEnd(width)} ${description}`)
    return EXIT_OK
  }
  show.line('usage: wxs <command> [args] [--json] [--help]\n\ncommands:')
  for (const c of commands) show.line(`  ${c.name.padEnd(10)} ${c.summary}`)
  show.line(`  ${'daemon'.padEnd(10)} start|stop|status the background daemon`)
  show.line('\nState lives in $WXS_HOME (default ~/.wxs); the daemon starts on demand.\nExit codes: 0 ok, 1 failure, 2 bad usage or input, 3 done but some paths had problems.')
  return name === undefined || commands.some(c => c.name === name) ? EXIT_OK : EXIT_USAGE
}
