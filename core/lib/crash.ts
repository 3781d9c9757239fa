/**
 * Fault injection for the crash tests: a daemon started with
 * `WXS_CRASH_AT=<point>` kills itself with SIGKILL when it reaches that point,
 * so a test can stop it exactly between two steps of a pause or a resume and
 * check what the next daemon finds. Unset (always, outside tests), a no-op.
 */
export function crashPoint (point: string) {
  if (process.env.WXS_CRASH_AT === point) process.kill(process.pid, 'SIGKILL')
}
