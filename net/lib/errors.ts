/**
 * Errors raised by the network layer. Message format is `CODE: detail`.
 */
export type NetErrorCode =
  | 'BAD_KEY'
  | 'BAD_BOOTSTRAP'
  | 'NO_BOOTSTRAP'
  | 'NO_PEERS'
  | 'NOT_SHARED'
  | 'SWARM_CONFLICT'
  | 'PROTOCOL'
  | 'SNAPSHOT_NOT_FOUND'
  | 'STALLED'
  | 'BAD_LINK'
  | 'NOT_RESUMABLE'
  | 'BAD_PEER'
  | 'NOT_FETCHING'
  | 'BAD_STATE'

export class NetError extends Error {
  readonly code: NetErrorCode

  constructor (code: NetErrorCode, detail: string, opts?: { cause?: unknown }) {
    super(`${code}: ${detail}`, opts)
    this.name = 'NetError'
    this.code = code
  }

  static BAD_KEY (input: string, why: string) { return new NetError('BAD_KEY', `${JSON.stringify(input.length > 80 ? input.slice(0, 80) + '…' : input)} is not a workspace key: ${why} (a key is 64 hex characters or 52 z-base-32 characters, as printed by wxs share)`) }
  static BAD_BOOTSTRAP (input: string, why: string) { return new NetError('BAD_BOOTSTRAP', `bad bootstrap address ${JSON.stringify(input)}: ${why} (expected host:port[,host:port…])`) }
  static NO_BOOTSTRAP () { return new NetError('NO_BOOTSTRAP', 'WXS_NO_PUBLIC_BOOTSTRAP is set and no bootstrap was given: pass --bootstrap host:port or set WXS_BOOTSTRAP (start one with: wxs bootstrap)') }
  static NO_PEERS (key: string, seconds: number) { return new NetError('NO_PEERS', `no peer sharing ${key} was found within ${seconds} s; check that the sharer runs "wxs share" and that both use the same bootstrap (--bootstrap / WXS_BOOTSTRAP)`) }
  static NO_ROOT (key: string, seconds: number) { return new NetError('NO_PEERS', `the log of ${key} arrived but no peer served its root tree within ${seconds} s; check that the sharer still runs "wxs share"`) }
  static STALLED (name: string, seconds: number, peers: number, objects: number, total: number | null) { return new NetError('STALLED', `the sync of ${name} stalled: nothing arrived for ${seconds} s from ${peers} peer(s); ${objects}${total === null ? '' : ` of ${total}`} object${(total ?? objects) === 1 ? ' is' : 's are'} local and stay; run "wxs sync ${name}" again to go on`) }
  static BAD_LINK (input: string, why: string) { return new NetError('BAD_LINK', `${JSON.stringify(input.length > 40 ? input.slice(0, 40) + '…' : input)} is not a resume link: ${why} (copy the whole link wxs pause printed, wxsr1-…)`) }
  static NOT_RESUMABLE (why: string) { return new NetError('NOT_RESUMABLE', `${why}; a workspace key lets you follow it (wxs join <key>), only the resume link its holder's wxs pause printed lets you take it over`) }
  static NOT_SHARED (name: string) { return new NetError('NOT_SHARED', `${name} is not shared (share it with: wxs share ${name})`) }
  static SWARM_CONFLICT (running: string, wanted: string) { return new NetError('SWARM_CONFLICT', `the daemon's swarm already uses ${running}, not ${wanted}; stop the daemon (wxs daemon stop) to change it`) }
  static NOT_HELD (name: string, seconds: number, peers: number, peer: string | null) { return new NetError('STALLED', `${peer === null ? 'no connected peer' : `peer ${peer} did not connect or`} held everything ${name} reaches within ${seconds} s (${peers} peer(s) connected); the pause stands and its link works: run "wxs pause ${name} --wait${peer === null ? '' : ' ' + peer}" again to go on waiting`) }
  static NOT_FETCHING (name: string) { return new NetError('NOT_FETCHING', `${name} fetches nothing from peers (it is not joined or resumed from another machine): there is no background fetch to pause`) }
  static BAD_PEER (input: string) { return new NetError('BAD_PEER', `${JSON.stringify(input.slice(0, 80))} is not a peer id: give 8 to 64 hex characters of it, as wxs peers or wxs daemon status prints`) }
  static BAD_STATE (file: string, why: string) { return new NetError('BAD_STATE', `${file} is unreadable (${why}); this machine's peer identity is in it: restore it from a backup, or remove it to get a new identity`) }
  static PROTOCOL (detail: string) { return new NetError('PROTOCOL', detail) }
  static SNAPSHOT_NOT_FOUND (label: string, key: string) { return new NetError('SNAPSHOT_NOT_FOUND', `the shared workspace ${key} has no snapshot labelled "${label}"`) }
}
