/**
 * Errors raised by the content-addressed store and the generic helpers in core/.
 * Message format is `CODE: detail`; the original error is kept as `cause`.
 */
export type CoreErrorCode =
  | 'OBJECT_NOT_FOUND'
  | 'OBJECT_CORRUPT'
  | 'BAD_HASH'
  | 'BAD_FORMAT'
  | 'STORE_CLOSED'
  | 'STORE_LOCKED'
  | 'IO_ERROR'
  | 'NO_SPACE'
  | 'TOO_LARGE'
  | 'FETCH_TIMEOUT'
  | 'FETCH_FAILED'

export class CoreError extends Error {
  readonly code: CoreErrorCode

  constructor (code: CoreErrorCode, detail: string, opts?: { cause?: unknown }) {
    super(`${code}: ${detail}`, opts)
    this.name = 'CoreError'
    this.code = code
  }

  static OBJECT_NOT_FOUND (hash: string) { return new CoreError('OBJECT_NOT_FOUND', `object ${hash} is not in the store`) }
  static OBJECT_CORRUPT (hash: string, where: string) { return new CoreError('OBJECT_CORRUPT', `object ${hash} does not match its hash (${where})`) }
  static BAD_HASH (value: string) { return new CoreError('BAD_HASH', `not a BLAKE3-256 hex hash: ${JSON.stringify(value.slice(0, 80))}`) }
  static BAD_FORMAT (what: string, cause?: unknown) { return new CoreError('BAD_FORMAT', what, { cause }) }
  static STORE_CLOSED () { return new CoreError('STORE_CLOSED', 'the store is closed') }
  static STORE_LOCKED (path: string) { return new CoreError('STORE_LOCKED', `${path} is in use by another process`) }
  static TOO_LARGE (what: string) { return new CoreError('TOO_LARGE', what) }
  static FETCH_TIMEOUT (hash: string, ms: number) { return new CoreError('FETCH_TIMEOUT', `object ${hash} is not stored locally and no peer delivered it within ${ms} ms`) }
  static FETCH_FAILED (hash: string, cause: unknown) { return new CoreError('FETCH_FAILED', `object ${hash} could not be fetched: ${(cause as Error)?.message ?? cause}`, { cause }) }

  /** Wraps a filesystem error, naming ENOSPC distinctly so callers can report a full disk. */
  static IO (op: string, path: string, cause: unknown) {
    const code = (cause as NodeJS.ErrnoException)?.code
    if (code === 'ENOSPC' || code === 'EDQUOT') return new CoreError('NO_SPACE', `no space left on device while ${op} ${path}`, { cause })
    return new CoreError('IO_ERROR', `${op} ${path}: ${(cause as Error)?.message ?? cause}`, { cause })
  }
}
