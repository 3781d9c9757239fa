/** Errors of the mount layer. Message format is `CODE: detail`. */
export type MountErrorCode = 'FUSE_UNAVAILABLE' | 'MOUNT_FAILED' | 'NOT_MOUNTED' | 'ALREADY_MOUNTED' | 'MOUNTPOINT_BUSY' | 'UNMOUNT_FAILED' | 'BAD_SETTING'

export class MountError extends Error {
  readonly code: MountErrorCode

  constructor (code: MountErrorCode, detail: string, opts?: { cause?: unknown }) {
    super(`${code}: ${detail}`, opts)
    this.name = 'MountError'
    this.code = code
  }

  static FUSE_UNAVAILABLE (detail: string) { return new MountError('FUSE_UNAVAILABLE', `${detail}; \`wxs export <name> <dir>\` works without FUSE`) }
  static MOUNT_FAILED (dir: string, cause: unknown) { return new MountError('MOUNT_FAILED', `could not mount at ${dir}: ${(cause as Error)?.message ?? cause}`, { cause }) }
  static NOT_MOUNTED (what: string) { return new MountError('NOT_MOUNTED', `${what} is not mounted (see: wxs list)`) }
  static ALREADY_MOUNTED (name: string, dir: string) { return new MountError('ALREADY_MOUNTED', `${name} is already mounted at ${dir}`) }
  static MOUNTPOINT_BUSY (dir: string, why: string) { return new MountError('MOUNTPOINT_BUSY', `cannot mount at ${dir}: ${why}`) }
  static BAD_SETTING (name: string, value: string, want: string) { return new MountError('BAD_SETTING', `${name}=${value}: ${want}`) }
  static UNMOUNT_FAILED (dir: string, cause: unknown) { return new MountError('UNMOUNT_FAILED', `could not unmount ${dir}: ${(cause as Error)?.message ?? cause}`, { cause }) }
}
