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
