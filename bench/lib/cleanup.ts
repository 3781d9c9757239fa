/**
 * Undo steps registered as resources are made (mounts, daemons, loop
 * devices), run in reverse order once — on success, failure or a signal.
 */
export class Cleanup {
  private readonly steps: Array<{ what: string, fn: () => Promise<unknown> }> = []
  private running: Promise<void> | null = null

  /** Registers an undo step; the latest registered runs first. */
  defer (what: string, fn: () => Promise<unknown>) {
    this.steps.push({ what, fn })
  }

  /** Runs every pending step (errors are logged, not thrown); concurrent calls share one run. */
  run (log: (line: string) => void): Promise<void> {
    this.running ??= this.drain(log).finally(() => { this.running = null })
    return this.running
  }

  private async drain (log: (line: string) => void) {
    for (let step = this.steps.pop(); step; step = this.steps.pop()) {
      try {
        await step.fn()
      } catch (err) {
        log(`  cleanup: ${step.what} failed: ${(err as Error)?.message ?? err}`)
      }
    }
  }
}
