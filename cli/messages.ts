/**
 * The local control protocol between the `wxs` command and the daemon:
 * newline-delimited JSON over a Unix socket (owner-only). One request per
 * connection; the daemon answers with zero or more progress and step records
 * and then exactly one result or error.
 * - progress: throttled counters of the job (at most ~10 a second);
 * - step: a lifecycle step that finished (pause: quiesced, committed, recorded,
 *   sealed, held; resume: replicated, verified, mounted, working set, complete),
 *   each once, as they happen. Added within version 1: a client that does not
 *   know `step` ignores it (clients ignore unknown types before result/error).
 */
import type { ProgressSnapshot, ProgressStep } from '../core/index.js'

export const PROTOCOL_VERSION = 1

export interface Request { v: number, method: string, params: Record<string, unknown> }

export type Reply =
  | { type: 'progress', progress: ProgressSnapshot }
  | { type: 'step', step: ProgressStep }
  | { type: 'result', result: unknown }
  | { type: 'error', error: { code: string, message: string } }

/** Largest request line the daemon accepts. */
export const MAX_REQUEST_BYTES = 1024 * 1024

export function encodeLine (msg: Request | Reply): string {
  return JSON.stringify(msg) + '\n'
}
