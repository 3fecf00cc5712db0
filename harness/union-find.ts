// Union-find over identifier keys: the simplest model of which requests are one customer, shared
// by the property tests' reference model, the invariant checks and the stress run.
import type { Identifiers } from '../lib/core/contact.js'
import { createDisjointSets } from '../lib/core/disjoint-sets.js'

/** The union-find keys of a request; emails and phone numbers never collide. */
export function toKeys(identifiers: Identifiers): string[] {
  const keys: string[] = []
  if (identifiers.email !== null) keys.push(`email:${identifiers.email}`)
  if (identifiers.phoneNumber !== null) keys.push(`phone:${identifiers.phoneNumber}`)
  return keys
}

/** Union-find over identifier keys: every request seen joins its email and phone number. */
export type UnionFind = {
  has: (key: string) => boolean
  add: (identifiers: Identifiers) => void
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
