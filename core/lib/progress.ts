import { EventEmitter } from 'node:events'

/** One immutable progress record, as sent to renderers (Ink, plain, NDJSON). */
export interface ProgressSnapshot {
  readonly op: string
  readonly phase: string
  readonly files: number
  readonly totalFiles: number | null
  readonly bytes: number
  readonly totalBytes: number | null
  readonly elapsedMs: number
  readonly bytesPerSecond: number
  readonly etaMs: number | null
  readonly done: boolean
  /** What `files` counts ('file' unless set, e.g. 'object' for network jobs). */
  readonly unit?: string
  /** Connected peers, for network jobs. */
  readonly peers?: number | null
  /** Why it is not done yet (network jobs: what is queued, in flight, that no peer has). */
  readonly why?: string | null
}

const RATE_WARMUP_MS = 1000
const RATE_MIN_SAMPLE_MS = 100
const RATE_TAU_MS = 3000

/**
 * A step of a job's lifecycle that finished (pause: quiesced, committed,
 * recorded, sealed...; resume: verified, mounted, working set...), with what a
 * script needs to know about it. `ms` counts from the job's start.
 */
export interface ProgressStep {
  readonly op: string
  readonly step: string
  readonly ms: number
  readonly [detail: string]: unknown
}

/**
 * Accumulates counters for a long job and emits throttled immutable snapshots
 * ('update' events). UIs subscribe; the job only calls add()/setPhase()/finish().
 */
/** A job with nothing moving still gets a snapshot this often. */
const IDLE_EMIT_MS = 1000

export class Monitor extends EventEmitter {
  readonly op: string
  phase = 'starting'
  files = 0
  bytes = 0
  totalFiles: number | null = null
  totalBytes: number | null = null
  unit: string | undefined = undefined
  peers: number | null = null
  why: string | null = null
  private readonly started = Date.now()
  private lastEmit = 0
  /** The smoothed rate (EWMA, RATE_TAU_MS) and the sample it was last moved by. */
  private rate = 0
  private sampledAt = this.started
  private sampledBytes = 0
  private readonly intervalMs: number
  /** Emits a snapshot every second while nothing moves: a stall shows (rate falling, why), not a frozen line. */
  private idleTimer: NodeJS.Timeout | null = null

  constructor (op: string, opts: { intervalMs?: number } = {}) {
    super()
    this.op = op
    this.intervalMs = opts.intervalMs ?? 100
  }

  setPhase (phase: string) {
    this.phase = phase
    this.emitNow()
  }

  add (files: number, bytes: number) {
    this.files += files
    this.bytes += bytes
    if (Date.now() - this.lastEmit >= this.intervalMs) this.emitNow()
  }

  /** Says a step is done ('step' event, sent at once: steps are few). */
  step (step: string, detail: Record<string, unknown> = {}) {
    this.emit('step', Object.freeze({ step, op: this.op, ms: Date.now() - this.started, ...detail }))
  }

  finish () {
    this.stop()
    this.phase = 'done'
    this.emit('update', this.snapshot(true))
  }

  /** Stops the idle snapshots (finish() does; so must whoever drops a monitor whose job failed). */
  stop () {
    if (this.idleTimer !== null) clearInterval(this.idleTimer)
    this.idleTimer = null
  }

  snapshot (done = false): ProgressSnapshot {
    const now = Date.now()
    const elapsedMs = now - this.started
    const bytesPerSecond = Math.round(this.smoothedRate(now))
    const left = this.totalBytes !== null ? this.totalBytes - this.bytes : null
    const etaMs = left !== null && bytesPerSecond > 0 ? Math.round(left * 1000 / bytesPerSecond) : null
    return Object.freeze({
      op: this.op,
      phase: this.phase,
      files: this.files,
      totalFiles: this.totalFiles,
      bytes: this.bytes,
      totalBytes: this.totalBytes,
      elapsedMs,
      bytesPerSecond,
      etaMs,
      done,
      ...(this.unit !== undefined ? { unit: this.unit } : {}),
      ...(this.peers !== null ? { peers: this.peers } : {}),
      ...(this.why !== null ? { why: this.why } : {})
    })
  }

  /**
   * Bytes a second, smoothed: the average over the first second, then an EWMA of
   * the rate between snapshots (a stall shows as a falling rate, not as the
   * average since the start, which hides it for minutes).
   */
  private smoothedRate (now: number): number {
    const dt = now - this.sampledAt
    if (now - this.started < RATE_WARMUP_MS) {
      if (now > this.started) this.rate = this.bytes * 1000 / (now - this.started)
    } else if (dt >= RATE_MIN_SAMPLE_MS) {
      const instant = (this.bytes - this.sampledBytes) * 1000 / dt
      this.rate += (1 - Math.exp(-dt / RATE_TAU_MS)) * (instant - this.rate)
    } else {
      return this.rate
    }
    this.sampledAt = now
    this.sampledBytes = this.bytes
    return this.rate
  }

  private emitNow () {
    this.lastEmit = Date.now()
    this.emit('update', this.snapshot())
    if (this.idleTimer === null && this.phase !== 'done') {
      this.idleTimer = setInterval(() => { if (Date.now() - this.lastEmit >= IDLE_EMIT_MS) this.emitNow() }, IDLE_EMIT_MS / 4)
      this.idleTimer.unref()
    }
  }
}
