/** Disjoint sets (union-find) over any keys, with path compression. Pure. */

/** A partition of keys into sets, refined by `union`. */
export type DisjointSets<K> = {
  /** Returns the representative of `key`'s set, adding `key` alone if unseen. */
  find(key: K): K
  /** Joins the sets of `a` and `b`. */
  union(a: K, b: K): void
  /** Every set seen, as arrays of keys in the order they were first seen. */
  sets(): K[][]
}

/** Returns an empty partition. */
export function createDisjointSets<K>(): DisjointSets<K> {
  const parent = new Map<K, K>()
  const find = (key: K): K => {
    let root = parent.get(key)
    if (root === undefined) {
      parent.set(key, key)
      return key
    }
    while (root !== parent.get(root)) root = parent.get(root) as K
    // Path compression: point every key on the way straight at the root.
    let current = key
    while (current !== root) {
      const next = parent.get(current) as K
      parent.set(current, root)
      current = next
    }
    return root
  }
  return {
    find,
    union(a, b) {
      const [rootA, rootB] = [find(a), find(b)]
      if (rootA !== rootB) parent.set(rootB, rootA)
    },
    sets() {
      const groups = new Map<K, K[]>()
      for (const key of parent.keys()) {
        const root = find(key)
        const group = groups.get(root)
        if (group === undefined) groups.set(root, [key])
        else group.push(key)
      }
      return [...groups.values()]
    },
  }
}
