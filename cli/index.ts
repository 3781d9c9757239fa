/**
 * The library: `import { Wxs } from 'wxs'`. Every method answers with the JSON
 * the CLI prints with --json (README: Using wxs from an agent).
 */
export { Wxs, type WxsOptions } from './lib/api.js'
export type { ExecOptions, ExecResult, ChangedPath } from './lib/exec.js'
export type { WatchReply, WatchState, WatchEvent } from './messages.js'
