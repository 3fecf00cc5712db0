// The requests the bench sends, each really of its kind against the loaded store: identifiers come
// from the layout (bench/dataset.ts), and a seeded generator picks them.

import { type Layout, toEmail, toPhoneNumber, toRowIdentifiers } from '../harness/dataset.js'
import { seededRandom } from '../harness/random.js'
import type { Identifiers } from '../lib/core/contact.js'

/**
 * The request kinds the bench measures; `mix` draws from the four identify kinds. `lookup` is the
 * admin API's read-only `GET /api/customers?email=` of a returning customer, not part of the mix.
 */
export const REQUEST_KINDS = ['returning', 'new', 'new-info', 'merge', 'mix', 'lookup'] as const
export type RequestKind = (typeof REQUEST_KINDS)[number]

/** The outcome (lib/identify/shell.ts) each single kind must produce; anything else is reported. */
export const EXPECTED_OUTCOME: Record<Exclude<RequestKind, 'mix'>, string> = {
  returning: 'unchanged',
  new: 'created',
  'new-info': 'linked',
  merge: 'merged',
  lookup: 'found',
}

/** The mix: most checkouts are returning customers; merges are rare (percent of requests). */
export const MIX: [Exclude<RequestKind, 'mix' | 'lookup'>, number][] = [
  ['returning', 70],
  ['new', 15],
  ['new-info', 12],
  ['merge', 3],
]

/** Hands out requests for one loaded store; its state spans every run against that store. */
export type Workload = {
  next: (kind: RequestKind) => Identifiers
  /**
   * Tells the workload every request handed out so far has been answered: the customers its
   * `new` requests created may now be merged.
   */
  settle: () => void
  /** Merges that had to pair already-merged customers because the fresh ones ran out. */
  laterGenerationMerges: () => number
  /** Merges of two customers created by earlier `new` requests, once the store's ran out. */
  createdCustomerMerges: () => number
}

/**
 * Returns the request source for a store laid out as `layout`. Even-numbered customers serve
 * returning and new-info requests; odd-numbered ones are kept for merges, each used once, so
 * every merge joins two distinct customers. When those run out, merged customers are merged again,
 * and once only one is left (a small store on a fast machine), customers that `new` requests
 * created before the last `settle` are merged in pairs.
 */
export function createWorkload(layout: Layout, seed: number): Workload {
  const random = seededRandom(seed)
  const customers = layout.sizes.length
  const pick = (below: number) => Math.floor(random() * below)
  // Customers kept for merges, as queues of representatives: each merge takes two from the current
  // generation and puts the survivor (the older, hence the first) into the next.
  let mergeQueue: number[] = []
  for (let c = 1; c < customers; c += 2) mergeQueue.push(c)
  let nextGeneration: number[] = []
  let generation = 0
  let laterGenerationMerges = 0
  let fresh = 0
  // Customers created by `new` requests: handed out, and known to be answered (settled).
  let created: Identifiers[] = []
  let settled: Identifiers[] = []
  let createdCustomerMerges = 0

  const pickShared = () => {
    const customer = 2 * pick(Math.ceil(customers / 2))
    return { customer, row: pick(layout.sizes[customer] ?? 1) }
  }
  const takeMergePair = (): [number, number] | null => {
    if (mergeQueue.length < 2) {
      mergeQueue = [...mergeQueue, ...nextGeneration]
      nextGeneration = []
      generation++
    }
    if (mergeQueue.length < 2) return null
    const [first, second] = mergeQueue.splice(0, 2) as [number, number]
    if (generation > 0) laterGenerationMerges++
    nextGeneration.push(first)
    return [first, second]
  }
  const mergeCreated = (): Identifiers => {
    const [older, younger] = settled.splice(0, 2)
    if (older === undefined || younger === undefined) {
      throw new Error('Too few customers to merge: every one is merged, and none created since')
    }
    createdCustomerMerges++
    return { email: older.email, phoneNumber: younger.phoneNumber }
  }
  const nextOf = (kind: RequestKind): Identifiers => {
    switch (kind) {
      case 'returning':
      case 'lookup': {
        const { customer, row } = pickShared()
        return toRowIdentifiers(customer, row)
      }
      case 'new': {
        const n = fresh++
        const request = {
          email: `new${n}.s${seed}@bench.test`,
          phoneNumber: `+2${String(seed % 1000).padStart(3, '0')}${String(n).padStart(9, '0')}`,
        }
        created.push(request)
        return request
      }
      case 'new-info': {
        const { customer, row } = pickShared()
        const { phoneNumber } = toRowIdentifiers(customer, row)
        return { email: `info${fresh++}.c${customer}@bench.test`, phoneNumber }
      }
      case 'merge': {
        const pair = takeMergePair()
        if (pair === null) return mergeCreated()
        const [older, younger] = pair
        return { email: toEmail(older, 0), phoneNumber: toPhoneNumber(younger, 0) }
      }
      case 'mix': {
        let roll = random() * 100
        for (const [each, percent] of MIX) {
          roll -= percent
          if (roll < 0) return nextOf(each)
        }
        return nextOf('returning')
      }
    }
  }
  return {
    next: nextOf,
    settle: () => {
      settled = [...settled, ...created]
      created = []
    },
    laterGenerationMerges: () => laterGenerationMerges,
    createdCustomerMerges: () => createdCustomerMerges,
  }
}
