/**
 * Picks one progress renderer for a command: NDJSON on stderr with --json,
 * an Ink view when stderr is a TTY, plain throttled lines otherwise.
 * Results always go to stdout; progress never does.
 */
import type { ProgressSnapshot } from '../../core/index.js'

export interface ProgressRenderer { update (p: ProgressSnapshot): void, finish (): Promise<void> }

export async function progressRenderer (title: string, opts: { json: boolean, quiet?: boolean }): Promise<ProgressRenderer> {
  if (opts.quiet) return { update () {}, async finish () {} }
  if (opts.json) return { update: p => { process.stderr.write(JSON.stringify({ progress: title, ...p }) + '\n') }, async finish () {} }
  if (process.stderr.isTTY && !process.env.CI) {
    const { startInkProgress } = await import('../../tui/index.js')
    return startInkProgress(title, { stdout: process.stderr })
  }
  const { formatProgressLine } = await import('../../tui/index.js')
  let last = Date.now() // first line after a second: quick jobs print only their summary
  return {
    update (p) {
      if (!p.done && Date.now() - last < 1000) return
      last = Date.now()
      process.stderr.write(formatProgressLine(title, p) + '\n')
    },
    async finish () {}
  }
}
