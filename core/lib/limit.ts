/** Runs at most `max` async tasks at once; the rest wait in FIFO order (O(1) per task). */
export class Limiter {
  private active = 0
  private waiting: Array<() => void> = []
  private head = 0
  readonly max: number

  constructor (max: number) {
    this.max = max
  }

  async run<T> (fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.max) await new Promise<void>(resolve => this.waiting.push(resolve))
    else this.active++
    try {
      return await fn()
    } finally {
      this.next()
    }
  }

  private next () {
    if (this.head < this.waiting.length) {
      const wake = this.waiting[this.head++]
      if (this.head > 1024 && this.head * 2 > this.waiting.length) { this.waiting = this.waiting.slice(this.head); this.head = 0 }
      wake()
    } else {
      this.active--
    }
  }
}
