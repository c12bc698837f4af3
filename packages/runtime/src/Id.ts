/**
 * Ids. `uuidv7` gives time-ordered ids (RFC 9562): unique, and sortable by creation time, so
 * they make good primary keys and pagination cursors. `fromName` gives the same id for the same
 * name, so a retried request (an idempotency key) maps onto the record it created the first time.
 *
 * @example
 * ```ts
 * const id = Id.uuidv7()
 * const purchaseId = Id.fromName(`purchase:${userId}:${idempotencyKey}`)
 * ```
 */
import { createHash } from "node:crypto"

export { uuidv7 } from "./internal/uuid.ts"

/** A name-based UUID (version 8 from SHA-256, RFC 9562 appendix B.2): equal names, equal ids. */
export const fromName = (name: string): string => {
  const bytes = createHash("sha256").update(name).digest().subarray(0, 16)
  bytes[6] = (bytes[6]! & 0x0f) | 0x80
  bytes[8] = (bytes[8]! & 0x3f) | 0x80
  const hex = bytes.toString("hex")
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}
