/**
 * Erased values stay erased: an identifier erased after an order was placed is dropped from it
 * (README, "The guard"); an order left with none is skipped. Orders are checked one at a time.
 */
import type { PlannedOrder } from '../core/backfill.js'
import type { KeyRef } from '../core/blocklist.js'
import { toErasureHash } from '../guard/writes.js'

/** Returns a filter of orders against the erasures (`kind:keyHash` → erasedAt), with its counts. */
export function createErasureFilter(erased: ReadonlyMap<string, number>, erasureKey: string) {
  const counts = { identifiers: 0, emptied: 0 }
  // One hash per distinct value, and none at all when nothing was ever erased.
  const hashes = new Map<string, string>()
  const isErasedAfter = (ref: KeyRef, at: number) => {
    const text = `${ref.kind}:${ref.key}`
    let hash = hashes.get(text)
    if (hash === undefined) {
      hash = toErasureHash(ref, erasureKey)
      hashes.set(text, hash)
    }
    const erasedAt = erased.get(`${ref.kind}:${hash}`)
    return erasedAt !== undefined && at < erasedAt
  }
  return {
    counts,
    /** Returns the order without what was erased after it, or null when nothing is left. */
    filter(order: PlannedOrder): PlannedOrder | null {
      if (erased.size === 0) return order
      let next = order
      if (
        order.emailKey !== null &&
        isErasedAfter({ kind: 'email', key: order.emailKey }, order.at)
      ) {
        next = { ...next, emailKey: null }
        counts.identifiers++
      }
      const { phoneKey } = order
      if (phoneKey !== null && isErasedAfter({ kind: 'phoneNumber', key: phoneKey }, order.at)) {
        next = { ...next, phoneKey: null }
        counts.identifiers++
      }
      if (next.emailKey !== null || next.phoneKey !== null) return next
      counts.emptied++
      return null
    },
  }
}
