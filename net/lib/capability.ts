/**
 * The object channel's proof that a peer holds the workspace key, bound to one
 * Noise session and to the sender's side of it:
 *   BLAKE2b(namespace || role || handshake hash || key), role = 1 for the initiator, 0 otherwise.
 * A peer that only knows the discovery key (public, announced on the DHT) cannot
 * compute it; a proof seen on one connection is useless on another; and the role
 * byte stops a peer from reflecting the other side's proof back at it (both ends
 * share the handshake hash). Hypercore binds its replication the same way.
 */
import { hash } from 'hypercore-crypto'
import { CAPABILITY_NAMESPACE } from '../messages.js'

const NAMESPACE = Buffer.from(CAPABILITY_NAMESPACE)
const INITIATOR = Buffer.from([1])
const RESPONDER = Buffer.from([0])

export function capability (handshakeHash: Buffer, key: Buffer, initiator: boolean): Buffer {
  return hash([NAMESPACE, initiator ? INITIATOR : RESPONDER, handshakeHash, key])
}

/** Checks the remote's proof: it was made on the other side of the connection. */
export function verifyCapability (proof: Buffer | null, handshakeHash: Buffer, key: Buffer, remoteIsInitiator: boolean): boolean {
  if (proof === null || proof.byteLength !== 32) return false
  return capability(handshakeHash, key, remoteIsInitiator).equals(proof)
}
