/**
 * Picks one progress renderer for a command: NDJSON on stderr with --json,
 * an Ink view when stderr is a TTY, plain throttled lines otherwise. Lifecycle
 * steps are one NDJSON record or one line each, never throttled.
 * Results always go to stdout; progress never does.
 */
import type { ProgressSnapshot, ProgressStep } from '../../core/index.js'

export interface ProgressRenderer { update (p: ProgressSnapshot): void, step (s: ProgressStep): void, finish (): Promise<void> }

export async function progressRenderer (title: string, opts: { json: boolean, quiet?: boolean }): Promise<ProgressRenderer> {
  if (opts.quiet) return { update () {}, step () {}, async finish () {} }
  if (opts.json) {
    const line = (o: object) => { process.stderr.write(JSON.stringify(o) + '\n') }
    return { update: p => line({ progress: title, ...p }), step: s => line({ ...s }), async finish () {} }
  }
  if (process.stderr.isTTY && !process.env.CI) {
    const { startInkProgress } = await import('../../tui/index.js')
    return startInkProgress(title, { stdout: process.stderr })
  }
  const { formatProgressLine, formatStep } = await import('../../tui/index.js')
  let last = Date.now() // first line after a second: quick jobs print only their summary
  return {
    update (p) {
      if (!p.done && Date.now() - last < 1000) return
      last = Date.now()
      process.stderr.write(formatProgressLine(title, p) + '\n')
    },
    step (s) { process.stderr.write(`${title}: ${formatStep(s)}\n`) },
    async finish () {}
  }
}
