/**
 * How the store gets objects it does not hold: the network layer implements
 * this; reads wait for it, bounded by a timeout, so nothing hangs forever.
 */
import { CoreError } from './errors.js'

export interface ObjectFetcher {
  /**
   * Resolves once the object `hex` is in the local store. `urgent` reads (a
   * program waiting in the mount) jump ahead of background prefetch. Must stop
   * work and reject when `signal` aborts.
   */
  fetch (hex: string, opts: { urgent: boolean, signal: AbortSignal }): Promise<void>
}

export const DEFAULT_FETCH_TIMEOUT_MS = 30_000

/** Waits for `fetcher` to deliver `hex`, or throws FETCH_TIMEOUT / FETCH_FAILED. */
export async function fetchWithin (fetcher: ObjectFetcher, hex: string, timeoutMs: number): Promise<void> {
  const controller = new AbortController()
  let timer: NodeJS.Timeout | null = null
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => { controller.abort(); reject(CoreError.FETCH_TIMEOUT(hex, timeoutMs)) }, timeoutMs)
  })
  try {
    await Promise.race([fetcher.fetch(hex, { urgent: true, signal: controller.signal }), timeout])
  } catch (err) {
    if (err instanceof CoreError) throw err
    throw CoreError.FETCH_FAILED(hex, err)
  } finally {
    if (timer) clearTimeout(timer)
  }
}
