import { render, type Instance } from 'ink'
import type { ProgressSnapshot, ProgressStep } from '../../core/index.js'
import { ProgressView } from './progress-view.js'

export interface InkProgress {
  /** Rerender with a new snapshot; ignored after finish(). */
  update (snapshot: ProgressSnapshot): void
  /** A lifecycle step finished: it is listed above the live lines. */
  step (step: ProgressStep): void
  /** Unmount (leaving the last frame on screen) and wait for Ink to exit. Idempotent. */
  finish (): Promise<void>
}

/**
 * Mounts a ProgressView on `opts.stdout` (the CLI passes process.stderr so
 * stdout carries results only). Ink does not patch the console or exit on
 * Ctrl-C: the caller owns signals. The caller must await finish().
 */
export function startInkProgress (title: string, opts: { stdout: NodeJS.WriteStream }): InkProgress {
  const instance: Instance = render(<ProgressView title={title} snapshot={null} />, {
    stdout: opts.stdout,
    patchConsole: false,
    exitOnCtrlC: false
  })
  let finished: Promise<void> | null = null
  let last: ProgressSnapshot | null = null
  const steps: ProgressStep[] = []
  const draw = () => instance.rerender(<ProgressView title={title} snapshot={last} steps={[...steps]} />)

  return {
    update (snapshot) {
      if (finished) return
      last = snapshot
      draw()
    },
    step (s) {
      if (finished) return
      steps.push(s)
      draw()
    },
    finish () {
      if (finished) return finished
      // Take the exit promise before unmounting so its resolver is in place.
      const exited = instance.waitUntilExit()
      instance.unmount()
      finished = exited.then(() => {})
      return finished
    }
  }
}
