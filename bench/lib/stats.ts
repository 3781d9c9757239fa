/** Summary statistics for repeated measurements. */

export interface Summary { median: number, min: number, max: number, n: number, samples: number[] }

export function median (samples: number[]): number {
  if (samples.length === 0) return NaN
  const sorted = [...samples].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

export function summarize (samples: number[]): Summary {
  return { median: median(samples), min: Math.min(...samples), max: Math.max(...samples), n: samples.length, samples }
}

/** Times one async call in milliseconds. */
export async function timeMs (fn: () => Promise<unknown>): Promise<number> {
  const started = performance.now()
  await fn()
  return performance.now() - started
}

export interface RepeatOptions { warmup: number, reps: number }

/**
 * Runs `fn(i)` warmup + reps times (i < 0 for warm-ups) and returns the
 * samples of the measured reps; `fn` returns its own measurement.
 */
export async function repeat (opts: RepeatOptions, fn: (i: number) => Promise<number>): Promise<number[]> {
  for (let i = -opts.warmup; i < 0; i++) await fn(i)
  const samples: number[] = []
  for (let i = 0; i < opts.reps; i++) samples.push(await fn(i))
  return samples
}

/**
 * Runs several cases side by side: each round runs every case once, in a
 * shuffled order, so drift on a noisy machine hits all of them alike.
 * Warm-up rounds are run and discarded. Each case returns its own measurement.
 */
export async function sideBySide (opts: RepeatOptions, cases: Record<string, () => Promise<number>>): Promise<Record<string, number[]>> {
  const names = Object.keys(cases)
  const samples: Record<string, number[]> = Object.fromEntries(names.map(n => [n, []]))
  for (let round = -opts.warmup; round < opts.reps; round++) {
    for (const name of shuffle(names)) {
      const value = await cases[name]()
      if (round >= 0) samples[name].push(value)
    }
  }
  return samples
}

function shuffle<T> (items: T[]): T[] {
  const out = [...items]
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1))
    ;[out[i], out[j]] = [out[j], out[i]]
  }
  return out
}
