/**
 * The command table: usage, help, options, and how each command maps to one
 * daemon call and prints its result. Parsing is node:util parseArgs (strict).
 */
import path from 'node:path'
import { CliError } from './errors.js'
import * as show from './render.js'
import type { WatchEvent, WatchState } from '../messages.js'

/** `optional`: the value may be left out (the option then reads as ''). */
export type OptionSpec = Record<string, { type: 'string' | 'boolean', short?: string, description: string, value?: string, multiple?: boolean, optional?: boolean }>

export interface Invocation { args: string[], opts: Record<string, string | boolean | undefined>, json: boolean }

interface CommandBase {
  name: string
  usage: string
  summary: string
  details?: string
  options: OptionSpec
  args: [min: number, max: number]
}

/** One request to the daemon, one result printed. */
export interface RequestCommand extends CommandBase {
  /** Builds the daemon request from the parsed invocation. */
  request (inv: Invocation): { method: string, params: Record<string, unknown>, progress?: string }
  /** Prints a human-readable result; returns 'partial' when some paths had problems. */
  print (result: any, inv: Invocation): void | 'partial' | 'failed'
}

/** Runs in the client itself (a bootstrap node, a stream): returns the exit code. */
export interface LocalCommand extends CommandBase {
  local: (inv: Invocation) => Promise<number>
}

export type Command = RequestCommand | LocalCommand

const NET_OPTIONS: OptionSpec = {
  bootstrap: { type: 'string', value: 'host:port,…', description: 'DHT bootstrap nodes (default: $WXS_BOOTSTRAP, else the public ones)' },
  'dht-host': { type: 'string', value: 'addr', description: 'address the DHT binds to (default: 127.0.0.1 for a loopback bootstrap)' }
}

/** Network settings for the daemon's swarm: flags first, then the environment. */
function netParams (opts: Invocation['opts']) {
  const bootstrap = (opts.bootstrap as string | undefined) ?? (process.env.WXS_BOOTSTRAP || undefined)
  const host = (opts['dht-host'] as string | undefined) ?? (process.env.WXS_DHT_HOST || undefined)
  return { bootstrap, host }
}

const abs = (p: string) => path.resolve(p)

export const commands: Command[] = [
  {
    name: 'create',
    usage: 'wxs create <name> [--from <dir>] [-m <message>] [--mount [dir]] [--access owner|all]',
    summary: 'create a workspace, empty or from a directory',
    details: 'With --from, the directory is imported (".wxsignore" files use gitignore syntax; .git is included).\nWith --mount, the new workspace is mounted (default ~/wxs/<name>).',
    options: {
      from: { type: 'string', value: 'dir', description: 'import this directory as the first commit' },
      message: { type: 'string', short: 'm', value: 'text', description: 'commit message' },
      mount: { type: 'string', value: 'dir', optional: true, description: 'mount it too (the dir is optional)' },
      access: { type: 'string', value: 'owner|all', description: 'who may use the mount: owner (this daemon\'s user, the default) or all (every user, permissions checked as on a local disk)' }
    },
    args: [1, 1],
    request: ({ args, opts }) => ({ method: 'create', params: { name: args[0], from: opts.from ? abs(opts.from as string) : undefined, message: opts.message, mount: opts.mount === undefined ? undefined : opts.mount === '' ? '' : abs(opts.mount as string), access: opts.access }, progress: opts.from ? 'import' : undefined }),
    print: r => { const out = show.imported('created', r); if (r.mount) show.line(`mounted at ${r.mount.dir}`); return out }
  },
  {
    name: 'exec',
    usage: 'wxs exec <name> [options] -- <command...>',
    summary: 'run a command in a workspace: snapshot, run, commit, report what changed',
    details: 'Mounts the workspace if it is not mounted (a temporary mount point, unmounted after unless --keep-mounted),\ncommits what was pending and snapshots it (--snapshot none: no snapshot), runs the command with its cwd in the\nmount (WXS_WORKSPACE and WXS_ROOT set), commits after it, and reports what changed (added, modified, removed,\nfrom the two commits\' trees). Output streams live; with --json, one object: exit_code, signal, timed_out,\nduration_ms, stdout, stderr, truncated, snapshot (the label to restore to), commit, changed.\nThe exit status is the command\'s; 124 on a timeout, as timeout(1). What the command leaves running in its\nprocess group is ended when it exits.',
    options: {
      snapshot: { type: 'string', value: 'auto|none', description: 'snapshot before the command (default auto)' },
      cwd: { type: 'string', value: 'dir', description: 'working directory, relative to the workspace root' },
      env: { type: 'string', value: 'KEY=VALUE', multiple: true, description: 'add to the command\'s environment; repeatable' },
      stdin: { type: 'string', value: 'pass|close', description: 'pass this stdin through (default) or give the command none' },
      timeout: { type: 'string', value: 'seconds', description: 'then SIGTERM to the whole process group, SIGKILL after --grace' },
      grace: { type: 'string', value: 'seconds', description: 'between SIGTERM and SIGKILL (default 5)' },
      'max-output': { type: 'string', value: 'bytes', description: 'bytes kept of each of stdout and stderr in --json (default 1048576)' },
      'read-only': { type: 'boolean', description: 'run against a read-only mount (writes fail with EROFS; no snapshot, no commit)' },
      'keep-mounted': { type: 'boolean', description: 'leave the workspace mounted after (when exec mounted it)' }
    },
    args: [1, Infinity],
    local: async inv => (await import('./exec-command.js')).execCommand(inv)
  },
  {
    name: 'config',
    usage: 'wxs config <name> [key [value]]',
    summary: 'show or change a workspace\'s settings on this machine',
    details: 'Settings: audit (on|off: record what programs do in the mount; wxs audit shows it),\nsnapshot.every (30s, 10m, 1h or off: an automatic snapshot when something changed),\nsnapshot.before-exec (on|off: wxs exec snapshots first), snapshot.keep (how many automatic snapshots\nto keep; labels you gave are never pruned). The value "default" goes back to the default.',
    options: {},
    args: [1, 3],
    request: ({ args }) => ({ method: 'config', params: { name: args[0], key: args[1], value: args[2] } }),
    print: (r, inv) => {
      if (inv.args.length >= 2) return show.line(r.shown[inv.args[1]])
      show.table(Object.entries(r.shown as Record<string, string>).map(([k, v]) => [k, v, r.defaults.includes(k) ? '(default)' : '']))
    }
  },
  {
    name: 'audit',
    usage: 'wxs audit <name> [--since <time>] [--path <glob>] [--pid <n>] [--limit <n>]',
    summary: 'what programs did in a workspace\'s mount: reads, writes, creates, renames…',
    details: 'Each record: when, the process (pid and command), the operation and the path (writes with the bytes\nwritten through one open, at its close). Kept on this machine only, bounded (rotated), never shared.\n--since takes a time (2026-12-06T10:00:00Z) or how long ago (30s, 10m, 2h). --path: a glob (* within a\nname, ** across). Turn it off with: wxs config <name> audit off.',
    options: {
      since: { type: 'string', value: 'time', description: 'only records from then on (a time, or 30s/10m/2h ago)' },
      path: { type: 'string', value: 'glob', description: 'only records of matching paths (src/**, *.log)' },
      pid: { type: 'string', value: 'n', description: 'only records of this process' },
      limit: { type: 'string', value: 'n', description: 'at most this many (the newest)' }
    },
    args: [1, 1],
    request: ({ args, opts }) => ({ method: 'audit', params: { name: args[0], since: opts.since === undefined ? undefined : sinceTime(opts.since as string), path: opts.path, pid: opts.pid === undefined ? undefined : count(opts.pid as string, 'audit', '--pid'), limit: opts.limit === undefined ? undefined : count(opts.limit as string, 'audit', '--limit') } }),
    print: r => show.audit(r)
  },
  {
    name: 'import',
    usage: 'wxs import <name> <dir> [-m <message>]',
    summary: 'record a directory as a new commit of a workspace',
    details: 'Files whose size, mode and mtime are unchanged since the last commit are not re-read.',
    options: { message: { type: 'string', short: 'm', value: 'text', description: 'commit message' } },
    args: [2, 2],
    request: ({ args, opts }) => ({ method: 'import', params: { name: args[0], dir: abs(args[1]), message: opts.message }, progress: 'import' }),
    print: r => show.imported('imported into', r)
  },
  {
    name: 'fork',
    usage: 'wxs fork <source> <name> [--at <ref>]',
    summary: 'make a new workspace from another one (O(1), nothing copied)',
    options: { at: { type: 'string', value: 'ref', description: 'fork at this commit or snapshot instead of the head' } },
    args: [2, 2],
    request: ({ args, opts }) => ({ method: 'fork', params: { source: args[0], name: args[1], at: opts.at } }),
    print: r => show.line(`forked ${r.workspace.origin.name}@${r.workspace.origin.commit} as ${r.workspace.name} (${show.ms(r.ms)})`)
  },
  {
    name: 'list',
    usage: 'wxs list',
    summary: 'list workspaces',
    options: {},
    args: [0, 0],
    request: () => ({ method: 'list', params: {} }),
    print: r => show.list(r)
  },
  {
    name: 'info',
    usage: 'wxs info <name>',
    summary: 'show one workspace',
    options: {},
    args: [1, 1],
    request: ({ args }) => ({ method: 'info', params: { name: args[0] } }),
    print: r => show.info(r)
  },
  {
    name: 'snapshot',
    usage: 'wxs snapshot <name> [label]',
    summary: 'label the current commit (default label: snap-<time>)',
    options: {},
    args: [1, 2],
    request: ({ args }) => ({ method: 'snapshot', params: { name: args[0], label: args[1] } }),
    print: r => show.line(`snapshot ${r.snapshot.label} = commit ${r.snapshot.commit} (${r.commit.root.slice(0, 12)})`)
  },
  {
    name: 'log',
    usage: 'wxs log <name> [-n <count>]',
    summary: 'show the commit history, newest first',
    options: { number: { type: 'string', short: 'n', value: 'count', description: 'show at most this many commits' } },
    args: [1, 1],
    request: ({ args, opts }) => ({ method: 'log', params: { name: args[0], limit: opts.number === undefined ? undefined : count(opts.number as string, 'log') } }),
    print: r => show.log(r)
  },
  {
    name: 'diff',
    usage: 'wxs diff <name> [from] [to] | wxs diff <name> --conflict',
    summary: 'show paths added, removed and modified between two commits or snapshots',
    details: 'Defaults: from = the parent of `to`, to = head. Refs: a commit number, head, head~N, a snapshot label.\n--conflict: when one pause was resumed twice (wxs info says CONFLICT), from this machine\'s head to the other one.',
    options: {
      conflict: { type: 'boolean', description: 'compare the two heads of a pause resumed twice' }
    },
    args: [1, 3],
    request: ({ args, opts }) => ({ method: 'diff', params: { name: args[0], from: args[1], to: args[2], conflict: opts.conflict === true } }),
    print: r => show.diff(r)
  },
  {
    name: 'restore',
    usage: 'wxs restore <name> <snapshot|commit>',
    summary: 'make an old state current again, as a new commit (history is kept)',
    options: {},
    args: [2, 2],
    request: ({ args }) => ({ method: 'restore', params: { name: args[0], ref: args[1] } }),
    print: r => show.line(`restored as commit ${r.seq} (${r.root.slice(0, 12)}): ${r.message}`)
  },
  {
    name: 'export',
    usage: 'wxs export <name> <dir> [--at <ref>]',
    summary: 'write a commit out as a real directory (modes, symlinks, mtimes kept)',
    details: 'The target must not exist or be empty. Nothing is ever written outside it.',
    options: { at: { type: 'string', value: 'ref', description: 'export this commit or snapshot instead of the head' } },
    args: [2, 2],
    request: ({ args, opts }) => ({ method: 'export', params: { name: args[0], dir: abs(args[1]), at: opts.at }, progress: 'export' }),
    print: r => show.exported(r)
  },
  {
    name: 'mount',
    usage: 'wxs mount <name> [dir] [--access owner|all]',
    summary: 'mount a workspace as a real directory (default ~/wxs/<name>)',
    details: 'Writes land in a local overlay and are committed once they settle, on fsync, on `wxs commit` and on unmount.\n--access all lets every user use the mount, each checked by the kernel against the owners and modes it shows, as on a local disk; the default, owner, lets only this daemon\'s user in (faster: no permission checks).',
    options: { access: { type: 'string', value: 'owner|all', description: 'who may use the mount: owner (this daemon\'s user, the default) or all (every user, permissions checked as on a local disk)' } },
    args: [1, 2],
    request: ({ args, opts }) => ({ method: 'mount', params: { name: args[0], dir: args[1] ? abs(args[1]) : undefined, access: opts.access } }),
    print: r => show.line(`mounted ${r.name} at ${r.dir}`)
  },
  {
    name: 'unmount',
    usage: 'wxs unmount <name|dir>',
    summary: 'commit what changed and unmount',
    options: {},
    args: [1, 1],
    request: ({ args }) => ({ method: 'unmount', params: { target: args[0].includes('/') ? abs(args[0]) : args[0] } }),
    print: r => show.line(`unmounted ${r.name} from ${r.dir} (head: commit ${r.commit})`)
  },
  {
    name: 'commit',
    usage: 'wxs commit <name> [-m <message>]',
    summary: 'record the current state of a mounted workspace as a commit now',
    options: { message: { type: 'string', short: 'm', value: 'text', description: 'commit message' } },
    args: [1, 1],
    request: ({ args, opts }) => ({ method: 'commit', params: { name: args[0], message: opts.message } }),
    print: r => show.line(r.committed ? `committed ${r.name}: commit ${r.head.seq} (${r.head.root.slice(0, 12)})` : `nothing to commit in ${r.name} (head: commit ${r.head.seq})`)
  },
  {
    name: 'rm',
    usage: 'wxs rm <name>',
    summary: 'delete a workspace (its unshared objects go at the next gc)',
    options: {},
    args: [1, 1],
    request: ({ args }) => ({ method: 'rm', params: { name: args[0] } }),
    print: r => show.line(`removed ${r.name}`)
  },
  {
    name: 'gc',
    usage: 'wxs gc',
    summary: 'delete objects no workspace refers to and reclaim their disk',
    options: {},
    args: [0, 0],
    request: () => ({ method: 'gc', params: {}, progress: 'gc' }),
    print: r => show.gc(r)
  },
  {
    name: 'fsck',
    usage: 'wxs fsck',
    summary: 'verify every object and report missing or corrupt ones by workspace and path',
    options: {},
    args: [0, 0],
    request: () => ({ method: 'fsck', params: {}, progress: 'fsck' }),
    print: r => show.fsck(r)
  },
  {
    name: 'share',
    usage: 'wxs share <name> [--bootstrap host:port,…]',
    summary: 'announce a workspace on the network and serve it; prints its key',
    details: 'Anyone with the key can join (read) it: wxs join <key>. The daemon keeps sharing across restarts until wxs unshare.\nNew commits are served as they are made; uncommitted changes in a mount are committed first.',
    options: NET_OPTIONS,
    args: [1, 1],
    request: ({ args, opts }) => ({ method: 'share', params: { name: args[0], ...netParams(opts) } }),
    print: r => { show.line(r.key); process.stderr.write(`sharing ${r.name} (bootstrap ${r.bootstrap}); join it elsewhere with: wxs join ${r.key}\n`) }
  },
  {
    name: 'unshare',
    usage: 'wxs unshare <name>',
    summary: 'stop announcing and serving a workspace',
    options: {},
    args: [1, 1],
    request: ({ args }) => ({ method: 'unshare', params: { name: args[0] } }),
    print: r => show.line(`stopped sharing ${r.name}`)
  },
  {
    name: 'peers',
    usage: 'wxs peers [name]',
    summary: 'list connected peers, per workspace, and what they hold',
    options: {},
    args: [0, 1],
    request: ({ args }) => ({ method: 'peers', params: { name: args[0] } }),
    print: r => show.peers(r)
  },
  {
    name: 'join',
    usage: 'wxs join <key>[@<snapshot>] [name] [--mount [dir]] [--access owner|all] [--lazy] [--timeout <s>]',
    summary: 'follow a workspace shared by another peer (read-only; fork it to write)',
    details: 'The tree is browsable as soon as the log and the root arrive; file content is fetched on demand\nand in the background (wxs sync waits for all of it). New commits by the sharer appear here.\n<key>@<snapshot> pins a snapshot instead of following the head. Name default: the sharer\'s.',
    options: {
      mount: { type: 'string', value: 'dir', optional: true, description: 'mount it too (the dir is optional; default ~/wxs/<name>)' },
      access: { type: 'string', value: 'owner|all', description: 'who may use the mount: owner (this daemon\'s user, the default) or all (every user, permissions checked as on a local disk)' },
      timeout: { type: 'string', value: 'seconds', description: 'give up when no peer is found within this time (default 30)' },
      lazy: { type: 'boolean', description: 'fetch content only when read (no background prefetch; wxs sync fetches the rest)' },
      ...NET_OPTIONS
    },
    args: [1, 2],
    request: ({ args, opts }) => ({
      method: 'join',
      params: { target: args[0], name: args[1], ...mountAndTimeout(opts, 'join'), lazy: opts.lazy === true, ...netParams(opts) },
      progress: 'join'
    }),
    print: r => { show.line(`joined ${r.workspace.name}: commit ${r.workspace.head.seq} (${r.workspace.head.root.slice(0, 12)}), ${r.workspace.head.stats.files} files; content arrives in the background (wxs sync ${r.workspace.name} waits for it)`); if (r.mount) show.line(`mounted at ${r.mount.dir}`) }
  },
  {
    name: 'pause',
    usage: 'wxs pause <name> [--note <text>] [--meta key=value]… [--wait [peer]] [--force]',
    summary: 'stop writing a workspace here and print the link that resumes it on another machine',
    details: 'Quiesces the mount (changes in flight finish, then every change fails with EROFS), commits the whole tree\n(uncommitted edits, untracked and ignored files, build output, .git), appends a signed pause record with\nthe working set (paths used last) and your notes, shares the workspace, and prints the resume link.\nThe link holds the key and a one-time handoff secret: only it can resume, once. Pausing again prints the same link.\nRefuses while git holds .git/index.lock (--force pauses anyway). --meta: names, never secret values.',
    options: {
      note: { type: 'string', value: 'text', description: 'a note for whoever resumes (what to do next)' },
      meta: { type: 'string', value: 'key=value', multiple: true, description: 'extra facts for whoever resumes (cwd, the command to go on with); repeatable' },
      wait: { type: 'string', value: 'peer', optional: true, description: 'wait until a connected peer (or this one: its id, as wxs peers prints it) holds everything, so this machine can go offline' },
      timeout: { type: 'string', value: 'seconds', description: 'with --wait: give up (STALLED) after this long' },
      force: { type: 'boolean', description: 'pause even while a git operation is in progress' },
      ...NET_OPTIONS
    },
    args: [1, 1],
    request: ({ args, opts }) => ({ method: 'pause', params: { name: args[0], note: opts.note, meta: opts.meta, wait: opts.wait === undefined ? undefined : opts.wait, force: opts.force === true, timeoutMs: opts.timeout === undefined ? undefined : seconds(opts.timeout as string, 'pause'), ...netParams(opts) }, progress: 'pause' }),
    print: r => show.paused(r)
  },
  {
    name: 'resume',
    usage: 'wxs resume <link> [name] [--mount [dir]] [--access owner|all] [--timeout <s>] [--wait] [--fork]',
    summary: 'take over a paused workspace here: writable at once, content streaming in',
    details: 'Replicates the workspace\'s log through its pause, checks the link\'s secret against it, fetches every directory\nlisting of the paused head, starts this machine\'s own log continuing it (history reads through), shares it,\nand (with --mount) mounts it writable. File content follows on demand and in the background, the working\nset first. If that cannot be done within --timeout (default 30 s), nothing is left behind.\n--mount without a dir mounts where the pausing machine had it when that path is free here.',
    options: {
      mount: { type: 'string', value: 'dir', optional: true, description: 'mount it (the dir is optional: see above)' },
      access: { type: 'string', value: 'owner|all', description: 'who may use the mount: owner (this daemon\'s user, the default) or all (every user, permissions checked as on a local disk)' },
      timeout: { type: 'string', value: 'seconds', description: 'give up when the log and trees are not here within this time (default 30); with --wait, also when nothing arrives for this long' },
      wait: { type: 'boolean', description: 'return once everything is local (the working set first), not as soon as it is mounted' },
      fork: { type: 'boolean', description: 'a writable fork of the paused state instead (its own key; whoever holds the workspace keeps it): when the link was resumed already, or to try something aside' },
      ...NET_OPTIONS
    },
    args: [1, 2],
    request: ({ args, opts }) => ({
      method: 'resume',
      params: { link: args[0], name: args[1], ...mountAndTimeout(opts, 'resume'), wait: opts.wait === true, fork: opts.fork === true, ...netParams(opts) },
      progress: opts.fork === true ? 'fork' : 'resume'
    }),
    print: r => r.fork ? show.forkedPause(r) : show.resumed(r)
  },
  {
    name: 'sync',
    usage: 'wxs sync <name> [--timeout <s>] | wxs sync <name> --background off|on',
    summary: 'wait until everything a joined workspace shows is local',
    details: 'Exits 0 when complete. With --timeout, gives up (exit 1, STALLED) when nothing arrives for that long;\nwhat arrived stays, and the next wxs sync goes on from there.\n--background off stops fetching in the background (reads in the mount still fetch; kept across restarts), on starts again.',
    options: {
      timeout: { type: 'string', value: 'seconds', description: 'give up when nothing arrives for this long (default: wait)' },
      background: { type: 'string', value: 'off|on', description: 'pause or resume the background fetch instead of waiting' }
    },
    args: [1, 1],
    request: ({ args, opts }) => {
      if (opts.background !== undefined && opts.background !== 'off' && opts.background !== 'on') throw CliError.USAGE(`--background expects off or on, got ${JSON.stringify(opts.background)}`, 'sync')
      if (opts.background !== undefined) return { method: 'sync', params: { name: args[0], background: opts.background } }
      return { method: 'sync', params: { name: args[0], stallMs: opts.timeout === undefined ? undefined : seconds(opts.timeout as string, 'sync') }, progress: 'sync' }
    },
    print: r => r.background !== undefined || 'paused' in r ? show.line(`${r.name}: background fetch ${r.paused ? 'paused (reads in the mount still fetch)' : 'on'}`) : show.synced(r)
  },
  {
    name: 'bootstrap',
    usage: 'wxs bootstrap [--host <addr>] [--port <n>]',
    summary: 'run a DHT bootstrap node for a private network (foreground)',
    details: 'Prints host:port; give it to peers with --bootstrap or WXS_BOOTSTRAP. Runs until interrupted.',
    options: {
      host: { type: 'string', value: 'addr', description: 'address to listen on (default 127.0.0.1)' },
      port: { type: 'string', value: 'n', description: 'UDP port (default: any free port)' }
    },
    args: [0, 0],
    local: async ({ opts, json }) => {
      const { runBootstrap } = await import('../../net/index.js')
      const port = opts.port === undefined ? undefined : Number(opts.port)
      if (port !== undefined && !(Number.isInteger(port) && port > 0 && port < 65536)) throw CliError.USAGE(`--port expects 1-65535, got ${JSON.stringify(opts.port)}`, 'bootstrap')
      const node = await runBootstrap({ host: opts.host as string | undefined, port })
      const address = `${node.host}:${node.port}`
      show.line(json ? JSON.stringify({ host: node.host, port: node.port, bootstrap: address, nodes: node.nodes }) : address)
      if (!json) process.stderr.write(`DHT bootstrap running (${node.nodes} nodes) on ${address}; peers use --bootstrap ${address} or WXS_BOOTSTRAP=${address}. Ctrl-C stops it.\n`)
      await new Promise<void>(resolve => { process.once('SIGINT', resolve); process.once('SIGTERM', resolve) })
      await node.close()
      return 0
    }
  },
  {
    name: 'events',
    usage: 'wxs events [--since <id>] [--follow] [--json]',
    summary: 'what the daemon saw happen: workspaces joined, mounted, committed, paused, peers coming and going',
    details: 'Prints the events the daemon still keeps (the last 1,000 of this run), after --since <id> when given, and exits;\n--follow keeps printing them as they happen. --json: one JSON object per line (id, time, kind, workspace, peer, text).\nIds increase by one; a --since the daemon no longer has (or a restarted daemon) says so on stderr (a gap).',
    options: {
      since: { type: 'string', value: 'id', description: 'only events after this id' },
      follow: { type: 'boolean', short: 'f', description: 'keep printing events as they happen (until interrupted)' }
    },
    args: [0, 0],
    local: inv => runEvents(inv)
  },
  {
    name: 'top',
    usage: 'wxs top [--once] [--json]',
    summary: 'a live dashboard of workspaces, peers, transfers and what is not done yet, and why',
    details: 'On a terminal: the dashboard (q quits, ? shows the keys). --once prints one plain snapshot and exits;\n--json streams the daemon\'s watch replies (state, patch, event, gap, heartbeat) as NDJSON.',
    options: {
      once: { type: 'boolean', description: 'print one snapshot and exit' }
    },
    args: [0, 0],
    local: inv => runTop(inv)
  },
  {
    name: 'stats',
    usage: 'wxs stats',
    summary: 'logical bytes, bytes on disk, objects, dedupe ratio',
    options: {},
    args: [0, 0],
    request: () => ({ method: 'stats', params: {} }),
    print: r => show.stats(r)
  }
]

async function runEvents (inv: Invocation): Promise<number> {
  const since = inv.opts.since === undefined ? 0 : Number(inv.opts.since)
  if (!Number.isInteger(since) || since < 0) throw CliError.USAGE(`--since expects an event id, got ${JSON.stringify(inv.opts.since)}`, 'events')
  const { Wxs } = await import('./api.js')
  const wxs = new Wxs()
  const follow = inv.opts.follow === true
  const print = (e: WatchEvent) => show.line(inv.json ? JSON.stringify(e) : `#${e.id} ${new Date(e.time).toISOString().slice(11, 19)} ${e.text}`)
  const stop = () => process.exit(0)
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  const how = await wxs.watch({ since }, r => {
    if (r.type === 'event') print(r.event)
    else if (r.type === 'gap') process.stderr.write(`wxs: events up to ${r.oldest - 1} are no longer kept (the daemon keeps the last 1,000 of its run); showing what it has\n`)
    else if (r.type === 'state' && !follow) return false
  })
  if (how === 'closed' && follow) { process.stderr.write('wxs: the daemon went away\n'); return 1 }
  return 0
}

async function runTop (inv: Invocation): Promise<number> {
  const { Wxs } = await import('./api.js')
  const wxs = new Wxs()
  if (inv.json) {
    const stop = () => process.exit(0)
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
    await wxs.watch({}, r => { show.line(JSON.stringify(r)); if (inv.opts.once && r.type === 'state') return false })
    return 0
  }
  if (inv.opts.once || !process.stdout.isTTY) {
    const { snapshotLines } = await import('../../tui/index.js')
    let state: WatchState | null = null
    await wxs.watch({}, r => { if (r.type === 'state') { state = r.state; return false } })
    if (state === null) throw CliError.DAEMON_UNAVAILABLE('the daemon closed the watch before sending its state')
    for (const line of snapshotLines(state, { width: process.stdout.columns || 120 })) show.line(line)
    return 0
  }
  // on a terminal, the dashboard is what was asked for even where CI is set: Ink (is-in-ci,
  // read once when it is first imported) would otherwise draw only its last frame, at exit
  delete process.env.CI
  delete process.env.CONTINUOUS_INTEGRATION
  const { runDashboard } = await import('../../tui/index.js')
  const code = await runDashboard({ watch: (params, onReply) => wxs.watch(params, onReply), setFetch: (name, paused) => wxs.request('sync', { name, background: paused ? 'off' : 'on' }) })
  process.exit(code) // the watch connection may still be open

}

/** `--mount [dir]` (an empty dir = the default place) and `--timeout <s>` as daemon params. */
function mountAndTimeout (opts: Invocation['opts'], command: string) {
  return {
    mount: opts.mount === undefined ? undefined : opts.mount === '' ? '' : abs(opts.mount as string),
    access: opts.access,
    timeoutMs: opts.timeout === undefined ? undefined : seconds(opts.timeout as string, command)
  }
}

function seconds (v: string, command: string) {
  if (!/^\d+(\.\d+)?$/.test(v) || Number(v) <= 0) throw CliError.USAGE(`--timeout expects seconds, got ${JSON.stringify(v)}`, command)
  return Math.round(Number(v) * 1000)
}

function count (v: string, command: string, flag = '-n') {
  if (!/^\d+$/.test(v)) throw CliError.USAGE(`${flag} expects a number, got ${JSON.stringify(v)}`, command)
  return Number(v)
}

/** --since: a time Date.parse reads, or how long ago (30s, 10m, 2h, 1d); ms since the epoch. */
function sinceTime (v: string): number {
  const ago = /^(\d+(?:\.\d+)?)(s|m|h|d)$/.exec(v)
  if (ago !== null) return Date.now() - Number(ago[1]) * { s: 1e3, m: 60e3, h: 3600e3, d: 86400e3 }[ago[2] as 's' | 'm' | 'h' | 'd']
  const t = Date.parse(v)
  if (Number.isNaN(t)) throw CliError.USAGE(`--since expects a time (2026-12-06T10:00:00Z) or how long ago (30s, 10m, 2h), got ${JSON.stringify(v)}`, 'audit')
  return t
}
