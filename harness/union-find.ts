// Union-find over identifier keys: the simplest model of which requests are one customer, shared
// by the property tests' reference model, the invariant checks and the stress run.
import { findBuiltInRule } from '../lib/core/blocklist.js'
import type { Identifiers, MatchKeys } from '../lib/core/contact.js'
import { createDisjointSets } from '../lib/core/disjoint-sets.js'

/** A request as the model sees it: its values, and their match keys when it knows them. */
export type ModelRequest = Identifiers & Partial<MatchKeys>

/**
 * The union-find keys of a request that may link: match keys where given (else the values), and
 * none that a built-in rule blocks; emails and phone numbers never collide.
 */
export function toKeys(identifiers: ModelRequest): string[] {
  const keys: string[] = []
  const email = identifiers.emailKey ?? identifiers.email
  const phone = identifiers.phoneKey ?? identifiers.phoneNumber
  if (email !== null && findBuiltInRule({ kind: 'email', key: email }) === null) {
    keys.push(`email:${email}`)
  }
  if (phone !== null && findBuiltInRule({ kind: 'phoneNumber', key: phone }) === null) {
    keys.push(`phone:${phone}`)
  }
  return keys
}

/** Union-find over identifier keys: every request seen joins its email and phone number. */
export type UnionFind = {
  has: (key: string) => boolean
  add: (identifiers: ModelRequest) => void
  /** Every component as a sorted list of keys, the components sorted too. */
  components: () => string[][]
}

/** Returns an empty union-find. */
export function createUnionFind(): UnionFind {
  const sets = createDisjointSets<string>()
  const seen = new Set<string>()
  return {
    has: (key) => seen.has(key),
    add: (identifiers) => {
      const [first, ...rest] = toKeys(identifiers)
      if (first === undefined) return
      for (const key of [first, ...rest]) {
        seen.add(key)
        sets.union(first, key)
      }
    },
    components: () =>
      sets
        .sets()
        .map((keys) => keys.sort())
        .sort(),
  }
}
