/**
 * A readers/writer lock: many shared holders (imports, exports) or one
 * exclusive holder (gc). Waiters are served in arrival order.
 */
export class RwLock {
  private readers = 0
  private writer = false
  private queue: Array<{ exclusive: boolean, wake: () => void }> = []

  async shared<T> (fn: () => Promise<T>): Promise<T> {
    await this.acquire(false)
    try { return await fn() } finally { this.release(false) }
  }

  async exclusive<T> (fn: () => Promise<T>): Promise<T> {
    await this.acquire(true)
    try { return await fn() } finally { this.release(true) }
  }

  private canRun (exclusive: boolean) {
    return exclusive ? !this.writer && this.readers === 0 : !this.writer
  }

  private acquire (exclusive: boolean): Promise<void> {
    if (this.queue.length === 0 && this.canRun(exclusive)) {
      this.take(exclusive)
      return Promise.resolve()
    }
    return new Promise(resolve => this.queue.push({ exclusive, wake: resolve }))
  }

  private take (exclusive: boolean) {
    if (exclusive) this.writer = true
    else this.readers++
  }

  private release (exclusive: boolean) {
    if (exclusive) this.writer = false
    else this.readers--
    while (this.queue.length > 0 && this.canRun(this.queue[0].exclusive)) {
      const next = this.queue.shift()!
      this.take(next.exclusive)
      next.wake()
    }
  }
}
