// Minimal typings for the Holepunch modules wxs uses (they ship none).
declare module 'corestore' {
  import type Hypercore from 'hypercore'
  export default class Corestore {
    constructor (storage: string, opts?: Record<string, unknown>)
    ready (): Promise<void>
    close (): Promise<void>
    get (opts: { name?: string, key?: Uint8Array, exclusive?: boolean, valueEncoding?: unknown } | Uint8Array): Hypercore
    namespace (name: string): Corestore
    replicate (isInitiator: boolean | unknown, opts?: unknown): any
  }
}

declare module 'hypercore' {
  export default class Hypercore {
    key: Buffer
    discoveryKey: Buffer
    length: number
    writable: boolean
    id: string
    ready (): Promise<void>
    close (): Promise<void>
    purge (): Promise<void>
    clear (start: number, end?: number): Promise<unknown>
    get (index: number, opts?: unknown): Promise<Buffer | null>
    append (blocks: Buffer | Buffer[]): Promise<{ length: number }>
    on (event: string, fn: (...args: any[]) => void): this
  }
}

declare module 'hyperbee' {
  import type Hypercore from 'hypercore'
  export interface BeeNode<V> { seq: number, key: string, value: V }
  export interface BeeBatch<V> {
    put (key: string, value: V): Promise<void>
    del (key: string): Promise<void>
    flush (): Promise<void>
    close (): Promise<void>
  }
  export interface RangeOpts { gt?: string, gte?: string, lt?: string, lte?: string, reverse?: boolean, limit?: number }
  export default class Hyperbee<V = unknown> {
    constructor (core: Hypercore, opts?: { keyEncoding?: unknown, valueEncoding?: unknown })
    core: Hypercore
    version: number
    ready (): Promise<void>
    close (): Promise<void>
    get (key: string): Promise<BeeNode<V> | null>
    put (key: string, value: V): Promise<void>
    del (key: string): Promise<void>
    batch (): BeeBatch<V>
    createReadStream (range?: RangeOpts): AsyncIterable<BeeNode<V>>
    checkout (version: number): Hyperbee<V>
  }
}

declare module 'brittle' {
  export interface Assert {
    ok (v: unknown, msg?: string): void
    absent (v: unknown, msg?: string): void
    is (a: unknown, b: unknown, msg?: string): void
    not (a: unknown, b: unknown, msg?: string): void
    alike (a: unknown, b: unknown, msg?: string): void
    unlike (a: unknown, b: unknown, msg?: string): void
    pass (msg?: string): void
    fail (msg?: string): void
    exception (fn: unknown, re?: unknown, msg?: string): Promise<void>
    execution (fn: unknown, msg?: string): Promise<void>
    plan (n: number): void
    comment (msg: string): void
    teardown (fn: () => unknown, opts?: { order?: number }): void
    timeout (ms: number): void
    test (name: string, fn: (t: Assert) => unknown): Promise<void>
  }
  interface TestFn {
    (name: string, fn: (t: Assert) => unknown): Promise<void>
    (name: string, opts: { timeout?: number, skip?: boolean }, fn: (t: Assert) => unknown): Promise<void>
  }
  const test: TestFn
  export default test
  export const solo: TestFn
  export function configure (opts: { timeout?: number, serial?: boolean }): void
}
