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

/**
 * On SIGINT, SIGTERM or a crash: note it, run `onStop` (abort flags, kill
 * children), then the cleanup, then exit. A second signal does not cut the
 * cleanup short. Returns the function that removes the handlers.
 */
export function stopOnSignals (tag: string, cleanup: Cleanup, log: (line: string) => void, onStop: () => void): () => void {
  let stopping = false
  const stop = (signal: string, code = 130) => {
    if (stopping) return
    stopping = true
    log(`[${tag}] ${signal}: stopping and cleaning up`)
    onStop()
    void cleanup.run(log).finally(() => process.exit(code))
  }
  const onInt = () => stop('SIGINT')
  const onTerm = () => stop('SIGTERM')
  const onCrash = (err: unknown) => { log(`[${tag}] uncaught: ${(err as Error)?.stack ?? err}`); stop('crash', 1) }
  process.on('SIGINT', onInt)
  process.on('SIGTERM', onTerm)
  process.on('uncaughtException', onCrash)
  process.on('unhandledRejection', onCrash)
  return () => {
    process.off('SIGINT', onInt)
    process.off('SIGTERM', onTerm)
    process.off('uncaughtException', onCrash)
    process.off('unhandledRejection', onCrash)
  }
}
