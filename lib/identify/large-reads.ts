/**
 * Bounds how many reads of large customers run at once in this process, so that requests for one
 * customer of thousands of rows cannot take the pool and the event loop from everyone else's
 * (README, Known limits). Waiting adds no round trip, and a read still starts after its request.
 */
import type { MatchKeys } from '../core/contact.js'
import { toLockIdentifiers } from './cluster-locks.js'

/** How many rows make a cluster large; how many large reads run and wait; identifiers recalled. */
export type LargeReadLimits = {
  largeRows: number
  concurrency: number
  maxWaiting: number
  remembered: number
}

/**
 * The default: over 1,000 rows; one running and 16 waiting (at about 0.1 s a read of 20,000 rows,
 * under 2 s of wait); 50,000 identifiers (a few MB), every email and phone of 20,000 rows.
 */
export const DEFAULT_LARGE_READ_LIMITS: LargeReadLimits = {
  largeRows: 1_000,
  concurrency: 1,
  maxWaiting: 16,
  remembered: 50_000,
}

/**
 * A read of a large customer found `maxWaiting` others already waiting. It carries SQLSTATE 55P03,
 * as a lock wait that timed out does, so the request is answered 503 busy with Retry-After.
 */
export class LargeReadsBusyError extends Error {
  readonly code = '55P03'
  constructor() {
    super('Too many reads of large customers are waiting')
    this.name = 'LargeReadsBusyError'
  }
}

type RowIdentifiers = MatchKeys

/**
 * Returns a function that runs `read`, the read of the cluster of `identifiers`. It waits for one
 * of `concurrency` slots when an identifier was last read in a large cluster, or throws
 * `LargeReadsBusyError` when `maxWaiting` reads wait already. A read that returns a large cluster
 * recalls every identifier in it, since any of them leads to the whole cluster.
 */
export function createLargeReadGate(limits: LargeReadLimits = DEFAULT_LARGE_READ_LIMITS) {
  // Identifiers of large clusters, oldest first.
  const large = new Set<string>()
  const waiting: (() => void)[] = []
  let running = 0
  const acquire = async () => {
    if (running < limits.concurrency) running++
    else if (waiting.length >= limits.maxWaiting) throw new LargeReadsBusyError()
    else await new Promise<void>((resolve) => waiting.push(resolve))
  }
  // A freed slot passes straight to the next waiter, so none is overtaken.
  const release = () => {
    const next = waiting.shift()
    if (next === undefined) running--
    else next()
  }
  const recall = (rows: readonly RowIdentifiers[]) => {
    for (const row of rows) for (const key of toLockIdentifiers(row)) large.add(key)
    for (const oldest of large) {
      if (large.size <= limits.remembered) break
      large.delete(oldest)
    }
  }
  return async <T extends RowIdentifiers>(
    identifiers: MatchKeys,
    read: () => Promise<T[]>,
  ): Promise<T[]> => {
    const keys = toLockIdentifiers(identifiers)
    const isGated = keys.some((key) => large.has(key))
    if (isGated) await acquire()
    try {
      const rows = await read()
      const isLarge = rows.length > limits.largeRows
      // A cluster recalled as large stays recalled; one that shrank is forgotten by its keys.
      if (isLarge && !isGated) recall(rows)
      if (!isLarge && isGated) for (const key of keys) large.delete(key)
      return rows
    } finally {
      if (isGated) release()
    }
  }
}
