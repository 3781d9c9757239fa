/**
 * Errors of the command layer, and the one place exit codes are decided.
 *   0 ok · 1 failure · 2 bad usage or input · 3 done, but some paths had problems
 */
export type CliErrorCode = 'USAGE' | 'BUSY' | 'DAEMON_UNAVAILABLE' | 'DAEMON_DIED' | 'PROTOCOL' | 'PARTIAL' | 'FSCK_FAILED' | 'NOT_RUNNING'

export class CliError extends Error {
  readonly code: CliErrorCode

  constructor (code: CliErrorCode, detail: string, opts?: { cause?: unknown }) {
    super(`${code}: ${detail}`, opts)
    this.name = 'CliError'
    this.code = code
  }

  static USAGE (detail: string, command?: string) {
    return new CliError('USAGE', `${detail} (see: wxs ${command ? command + ' ' : ''}--help)`)
  }

  static DAEMON_UNAVAILABLE (detail: string, cause?: unknown) { return new CliError('DAEMON_UNAVAILABLE', detail, { cause }) }
  static DAEMON_DIED (log: string) { return new CliError('DAEMON_DIED', `the daemon exited during the operation (see ${log})`) }
  static PROTOCOL (detail: string) { return new CliError('PROTOCOL', detail) }
  static BUSY (detail: string) { return new CliError('BUSY', detail) }
}

export const EXIT_OK = 0
export const EXIT_FAILURE = 1
export const EXIT_USAGE = 2
export const EXIT_PARTIAL = 3

const USAGE_CODES = new Set(['USAGE', 'BAD_NAME', 'BAD_LABEL', 'BAD_REF', 'COLLECTED', 'BAD_HASH', 'WORKSPACE_NOT_FOUND', 'WORKSPACE_EXISTS', 'SNAPSHOT_EXISTS', 'SOURCE_NOT_FOUND', 'SOURCE_NOT_DIRECTORY', 'TARGET_NOT_EMPTY', 'NOT_MOUNTED', 'ALREADY_MOUNTED', 'MOUNTPOINT_BUSY', 'BUSY', 'BAD_KEY', 'BAD_BOOTSTRAP', 'NOT_SHARED', 'READ_ONLY', 'SWARM_CONFLICT', 'SNAPSHOT_NOT_FOUND', 'NO_BOOTSTRAP', 'BAD_LINK', 'NOT_RESUMABLE', 'HANDOFF_MISMATCH', 'NOT_WRITER', 'PAUSED', 'GIT_BUSY', 'INVALID_ARGUMENT', 'BAD_PEER', 'NOT_FETCHING'])

export function exitCodeFor (code: string): number {
  if (code === 'PARTIAL') return EXIT_PARTIAL
  return USAGE_CODES.has(code) ? EXIT_USAGE : EXIT_FAILURE
}
