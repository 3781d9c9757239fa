/**
 * The local control protocol between the `wxs` command and the daemon:
 * newline-delimited JSON over a Unix socket (owner-only). One request per
 * connection; the daemon answers with zero or more progress records and then
 * exactly one result or error.
 */
import type { ProgressSnapshot } from '../core/index.js'

export const PROTOCOL_VERSION = 1

export interface Request { v: number, method: string, params: Record<string, unknown> }

export type Reply =
  | { type: 'progress', progress: ProgressSnapshot }
  | { type: 'result', result: unknown }
  | { type: 'error', error: { code: string, message: string } }

/** Largest request line the daemon accepts. */
export const MAX_REQUEST_BYTES = 1024 * 1024

export function encodeLine (msg: Request | Reply): string {
  return JSON.stringify(msg) + '\n'
}
