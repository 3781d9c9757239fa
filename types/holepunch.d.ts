// Minimal typings for the Holepunch modules wxs uses (they ship none).
declare module 'corestore' {
  import type Hypercore from 'hypercore'
  export default class Corestore {
    constructor (storage: string, opts?: Record<string, unknown>)
    ready (): Promise<void>
    close (): Promise<void>
    get (opts: { name?: string, key?: Uint8Array, exclusive?: boolean, valueEncoding?: unknown, manifest?: unknown, keyPair?: { publicKey: Buffer, secretKey: Buffer } } | Uint8Array): Hypercore
    createKeyPair (name: string): Promise<{ publicKey: Buffer, secretKey: Buffer }>
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
    off (event: string, fn: (...args: any[]) => void): this
    update (opts?: { wait?: boolean }): Promise<boolean>
    download (range?: { start?: number, end?: number }): { done (): Promise<void>, destroy (): void }
    findingPeers (): () => void
    peers: unknown[]
    contiguousLength: number
    manifest: { prologue?: { hash: Buffer, length: number } | null } | null
    treeHash (length?: number): Promise<Buffer>
  }
}

declare module 'hyperswarm' {
  import type { EventEmitter } from 'node:events'
  export interface PeerInfo { publicKey: Buffer, topics: Buffer[], client: boolean }
  export interface Discovery { flushed (): Promise<void>, destroy (): Promise<void>, refresh (opts: { client: boolean, server: boolean }): Promise<void> }
  export default class Hyperswarm extends EventEmitter {
    constructor (opts?: { dht?: unknown, keyPair?: unknown, maxPeers?: number })
    dht: any
    keyPair: { publicKey: Buffer, secretKey: Buffer }
    connections: Set<any>
    join (topic: Buffer, opts?: { server?: boolean, client?: boolean }): Discovery
    leave (topic: Buffer): Promise<void>
    flush (): Promise<void>
    destroy (): Promise<void>
  }
}

declare module 'hyperdht' {
  export default class HyperDHT {
    static keyPair (seed?: Buffer): { publicKey: Buffer, secretKey: Buffer }
    constructor (opts?: { bootstrap?: Array<string | { host: string, port: number }>, host?: string, port?: number, ephemeral?: boolean, firewalled?: boolean })
    ready (): Promise<void>
    fullyBootstrapped (): Promise<void>
    address (): { host: string, port: number }
    destroy (): Promise<void>
  }
}

declare module 'protomux' {
  export interface Channel {
    opened: boolean
    closed: boolean
    userData: unknown
    open (handshake?: unknown): void
    close (): void
    addMessage (opts: { encoding: unknown, onmessage?: (m: any, channel: Channel) => void }): { send (m: unknown): boolean }
  }
  export default class Protomux {
    static from (stream: unknown, opts?: unknown): Protomux
    stream: any
    createChannel (opts: {
      protocol: string
      id?: Buffer | null
      unique?: boolean
      handshake?: unknown
      userData?: unknown
      onopen?: (handshake: any, channel: Channel) => void | Promise<void>
      onclose?: (isRemote: boolean, channel: Channel) => void
      ondestroy?: () => void
      ondrain?: () => void
    }): Channel | null
    pair (opts: { protocol: string, id?: Buffer | null }, notify: (id: Buffer) => void): void
    unpair (opts: { protocol: string, id?: Buffer | null }): void
  }
}

declare module 'hypercore-crypto' {
  export function discoveryKey (key: Buffer): Buffer
  export function hash (data: Buffer | Buffer[], out?: Buffer): Buffer
  export function keyPair (seed?: Buffer): { publicKey: Buffer, secretKey: Buffer }
  export function sign (message: Buffer, secretKey: Buffer): Buffer
  export function verify (message: Buffer, signature: Buffer, publicKey: Buffer): boolean
  const api: { discoveryKey: typeof discoveryKey, hash: typeof hash, keyPair: typeof keyPair, sign: typeof sign, verify: typeof verify }
  export default api
}

declare module 'hypercore-id-encoding' {
  export function decode (id: string | Buffer): Buffer
  export function normalize (id: string | Buffer): string
  export function encode (key: Buffer): string
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
