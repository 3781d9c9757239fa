/** Runs at most `max` async tasks at once; the rest wait in order. */
export class Limiter {
  private active = 0
  private readonly waiting: Array<() => void> = []
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
      const next = this.waiting.shift()
      if (next) next()
      else this.active--
    }
  }
}
