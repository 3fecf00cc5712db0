// Union-find over identifier keys: the simplest model of which requests are one customer, shared
// by the property tests' reference model, the invariant checks and the stress run.
import type { Identifiers } from '../lib/core/contact.js'

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
  const parent = new Map<string, string>()
  const find = (key: string): string => {
    const up = parent.get(key) ?? key
    if (up === key) return key
    const root = find(up)
    parent.set(key, root)
    return root
  }
  return {
    has: (key) => parent.has(key),
    add: (identifiers) => {
      const keys = toKeys(identifiers)
      for (const key of keys) if (!parent.has(key)) parent.set(key, key)
      const [first, ...rest] = keys
      for (const key of rest) if (first !== undefined) parent.set(find(key), find(first))
    },
    components: () => {
      const groups = new Map<string, string[]>()
      for (const key of parent.keys())
        groups.set(find(key), [...(groups.get(find(key)) ?? []), key])
      return [...groups.values()].map((keys) => keys.sort()).sort()
    },
  }
}
