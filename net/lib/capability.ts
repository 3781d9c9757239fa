/**
 * The object channel's proof that a peer holds the workspace key, bound to one
 * Noise session: BLAKE2b(namespace || handshake hash || key). A peer that only
 * knows the discovery key (public, announced on the DHT) cannot compute it, and
 * a proof seen on one connection is useless on another.
 */
import { hash } from 'hypercore-crypto'
import { CAPABILITY_NAMESPACE } from '../messages.js'

const NAMESPACE = Buffer.from(CAPABILITY_NAMESPACE)

export function capability (handshakeHash: Buffer, key: Buffer): Buffer {
  return hash([NAMESPACE, handshakeHash, key])
}

export function verifyCapability (proof: Buffer, handshakeHash: Buffer, key: Buffer): boolean {
  const expected = capability(handshakeHash, key)
  return proof.byteLength === expected.byteLength && expected.equals(proof)
}
