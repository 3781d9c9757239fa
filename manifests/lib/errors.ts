/**
 * Errors raised by workspace operations. Message format is `CODE: detail`.
 */
export type ManifestErrorCode =
  | 'WORKSPACE_NOT_FOUND'
  | 'WORKSPACE_EXISTS'
  | 'BAD_NAME'
  | 'BAD_LABEL'
  | 'BAD_REF'
  | 'COLLECTED'
  | 'SNAPSHOT_EXISTS'
  | 'SOURCE_NOT_FOUND'
  | 'SOURCE_NOT_DIRECTORY'
  | 'TARGET_NOT_EMPTY'
  | 'UNSAFE_PATH'
  | 'BAD_TREE'
  | 'MISSING_OBJECTS'
  | 'READ_ONLY'
  | 'PAUSED'
  | 'NOT_WRITER'
  | 'GIT_BUSY'
  | 'NOT_PAUSED'
  | 'HANDOFF_MISMATCH'
  | 'ALREADY_RESUMED'
  // live tree (mounted workspace) errors; mount/ maps them to errno
  | 'NO_ENTRY'
  | 'ENTRY_EXISTS'
  | 'NOT_DIRECTORY'
  | 'IS_DIRECTORY'
  | 'DIRECTORY_NOT_EMPTY'
  | 'INVALID_ARGUMENT'
  | 'NOT_PERMITTED'
  | 'NAME_TOO_LONG'
  | 'NO_ATTRIBUTE'
  | 'ATTRIBUTE_EXISTS'
  | 'NOT_SUPPORTED'
  | 'ATTRIBUTE_SPACE'
  | 'PAST_END'

export class ManifestError extends Error {
  readonly code: ManifestErrorCode

  constructor (code: ManifestErrorCode, detail: string, opts?: { cause?: unknown }) {
    super(`${code}: ${detail}`, opts)
    this.name = 'ManifestError'
    this.code = code
  }

  static WORKSPACE_NOT_FOUND (name: string) { return new ManifestError('WORKSPACE_NOT_FOUND', `no workspace named "${name}" (see: wxs list)`) }
  static WORKSPACE_EXISTS (name: string) { return new ManifestError('WORKSPACE_EXISTS', `a workspace named "${name}" already exists`) }
  static KEY_EXISTS (name: string) { return new ManifestError('WORKSPACE_EXISTS', `this workspace is already here as "${name}" (see: wxs info ${name}); for another copy use: wxs fork ${name} <new-name> [--at <snapshot>]`) }
  static BAD_NAME (name: string, why: string) { return new ManifestError('BAD_NAME', `invalid workspace name ${JSON.stringify(name)}: ${why}`) }
  static BAD_LABEL (label: string, why: string) { return new ManifestError('BAD_LABEL', `invalid snapshot label ${JSON.stringify(label)}: ${why}`) }
  static BAD_REF (ws: string, ref: string) { return new ManifestError('BAD_REF', `"${ref}" is neither a commit number nor a snapshot of "${ws}" (see: wxs log ${ws})`) }
  static SNAPSHOT_EXISTS (label: string) { return new ManifestError('SNAPSHOT_EXISTS', `a snapshot labelled "${label}" already exists`) }
  static SOURCE_NOT_FOUND (dir: string) { return new ManifestError('SOURCE_NOT_FOUND', `source directory ${dir} does not exist`) }
  static SOURCE_NOT_DIRECTORY (dir: string) { return new ManifestError('SOURCE_NOT_DIRECTORY', `source ${dir} is not a directory`) }
  static TARGET_NOT_EMPTY (dir: string) { return new ManifestError('TARGET_NOT_EMPTY', `export target ${dir} exists and is not empty`) }
  static UNSAFE_PATH (path: string) { return new ManifestError('UNSAFE_PATH', `refusing unsafe path ${JSON.stringify(path)}`) }
  static BAD_TREE (hash: string, cause?: unknown) { return new ManifestError('BAD_TREE', `tree ${hash} cannot be decoded`, { cause }) }
  static MISSING_OBJECTS (detail: string) { return new ManifestError('MISSING_OBJECTS', detail) }
  static READ_ONLY (name: string) { return new ManifestError('READ_ONLY', `${name} follows a workspace shared by another peer and cannot be changed here; make a writable copy with: wxs fork ${name} <new-name>`) }
  static PAUSED (name: string, hop: number) { return new ManifestError('PAUSED', `${name} is paused (move ${hop}): it changes again only where it is resumed (wxs resume <link>); wxs info ${name} shows the link's state`) }
  static NOT_WRITER (name: string) { return new ManifestError('NOT_WRITER', `${name} is not written on this machine (it follows a workspace shared by another peer): only its holder can pause it`) }
  static GIT_BUSY (name: string, lock: string) { return new ManifestError('GIT_BUSY', `a git operation is in progress in ${name} (${lock} exists); let it finish, or pause anyway with --force`) }
  static NOT_PAUSED (name: string) { return new ManifestError('NOT_PAUSED', `${name} has no open pause: its holder has not paused it, or it was resumed already (ask its holder to run wxs pause ${name})`) }
  static HANDOFF_MISMATCH (name: string) { return new ManifestError('HANDOFF_MISMATCH', `the link's handoff secret does not match the pause of ${name}: use the link wxs pause printed`) }
  static ALREADY_RESUMED (name: string, where: string) { return new ManifestError('ALREADY_RESUMED', `this pause of ${name} was already resumed (${where}); only one holder writes at a time; for a writable copy of the paused state: wxs resume <link> <copy> --fork`) }
  static NO_ENTRY (path: string) { return new ManifestError('NO_ENTRY', `no such file or directory: ${path}`) }
  static ENTRY_EXISTS (path: string) { return new ManifestError('ENTRY_EXISTS', `already exists: ${path}`) }
  static NOT_DIRECTORY (path: string) { return new ManifestError('NOT_DIRECTORY', `not a directory: ${path}`) }
  static IS_DIRECTORY (path: string) { return new ManifestError('IS_DIRECTORY', `is a directory: ${path}`) }
  static DIRECTORY_NOT_EMPTY (path: string) { return new ManifestError('DIRECTORY_NOT_EMPTY', `directory not empty: ${path}`) }
  static INVALID_ARGUMENT (detail: string) { return new ManifestError('INVALID_ARGUMENT', detail) }
  static NOT_PERMITTED (detail: string) { return new ManifestError('NOT_PERMITTED', detail) }
  static NO_ATTRIBUTE (path: string, name: string) { return new ManifestError('NO_ATTRIBUTE', `${path} has no attribute ${name}`) }
  static ATTRIBUTE_EXISTS (path: string, name: string) { return new ManifestError('ATTRIBUTE_EXISTS', `${path} has attribute ${name} already`) }
  static NOT_SUPPORTED (detail: string) { return new ManifestError('NOT_SUPPORTED', detail) }
  static ATTRIBUTE_SPACE (path: string) { return new ManifestError('ATTRIBUTE_SPACE', `no room for more extended attributes on ${path} (64 KiB in all, as ext4 with large attributes)`) }
  static COLLECTED (name: string, seq: number, floor: number) { return new ManifestError('COLLECTED', `commit ${seq} of ${name} is older than its oldest kept automatic snapshot (commit ${floor}) and has no label: its content is not kept (snapshot.keep; wxs log ${name} lists what is)`) }
  static PAST_END (detail: string) { return new ManifestError('PAST_END', detail) }
  static NAME_TOO_LONG (path: string) { return new ManifestError('NAME_TOO_LONG', `name too long: ${path}`) }
}
