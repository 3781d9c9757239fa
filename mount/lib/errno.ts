/**
 * The one table from wxs errors to errno values returned to the kernel
 * (as rclone's vfs translateError). Unknown errors become EIO and are logged.
 */
import os from 'node:os'

const E = os.constants.errno

const BY_CODE: Record<string, number> = {
  NO_ENTRY: E.ENOENT,
  ENTRY_EXISTS: E.EEXIST,
  NOT_DIRECTORY: E.ENOTDIR,
  IS_DIRECTORY: E.EISDIR,
  DIRECTORY_NOT_EMPTY: E.ENOTEMPTY,
  INVALID_ARGUMENT: E.EINVAL,
  NOT_PERMITTED: E.EPERM,
  NAME_TOO_LONG: E.ENAMETOOLONG,
  NO_ATTRIBUTE: E.ENODATA,
  ATTRIBUTE_EXISTS: E.EEXIST,
  NOT_SUPPORTED: E.EOPNOTSUPP,
  ATTRIBUTE_SPACE: E.ENOSPC,
  PAST_END: E.ENXIO,
  READ_ONLY: E.EROFS,
  PAUSED: E.EROFS,
  NO_SPACE: E.ENOSPC,
  OBJECT_NOT_FOUND: E.EIO,
  OBJECT_CORRUPT: E.EIO,
  FETCH_TIMEOUT: E.EIO,
  FETCH_FAILED: E.EIO
}

/** Negative errno for an error thrown by the model (fuse-native expects negative values). */
export function toErrno (err: unknown, log: (line: string) => void): number {
  const code = (err as { code?: unknown })?.code
  if (typeof code === 'string') {
    if (code in BY_CODE) {
      if (BY_CODE[code] === E.EIO) log(`EIO: ${(err as Error).message}`)
      return -BY_CODE[code]
    }
    const sys = (E as Record<string, number>)[code]
    if (typeof sys === 'number') return -sys
  }
  log(`EIO (unexpected): ${(err as Error)?.stack ?? String(err)}`)
  return -E.EIO
}

export const ERRNO = E

/** errno names by number ("EIO" for 5), for what wxs top shows. */
export const ERRNO_NAMES: Record<number, string> = Object.fromEntries(Object.entries(E).map(([name, n]) => [n, name]))
