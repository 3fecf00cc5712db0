/**
 * Regrouping customers after the evidence changed: a value blocked, unblocked, erased or re-keyed.
 * Pure.
 *
 * 1. The rows are every live row of the customers the change touches, as they will be after it
 *    (an erased value already removed, rows left with no identifier already gone).
 * 2. Rows are joined by an unblocked match key they share, and by a recorded request pair whose
 *    two keys are both unblocked (lib/core/evidence.ts).
 * 3. When the change can only join (an unblock, a re-key), rows of one customer stay together
 *    whatever the evidence says, so a merge made before the ledger existed is never undone by it.
 *    When it removes evidence (a block, an erasure), the evidence alone decides: that is a split.
 * 4. Each resulting customer's oldest row (`createdAt`, then `id`) is its primary, and every other
 *    row points straight at it. The part holding the old primary keeps it, since it is the oldest.
 * 5. Only rows whose link changes are written.
 */
import { findBuiltInRule, type KeyRef } from './blocklist.js'
import type { ContactRow, MatchKeys } from './contact.js'
import { createDisjointSets } from './disjoint-sets.js'

/** A row's new link: null makes it a primary. */
export type Relink = { id: number; linkedId: number | null }

/** What a regroup does to the customers it touched. */
export type Regroup = {
  /** The customers after it, oldest first: their primary and every row, in row order. */
  customers: { primaryId: number; ids: number[] }[]
  relinks: Relink[]
  /** Customers that fell apart: the old primary, and the primaries of the parts. */
  splits: { primaryContactId: number; into: number[] }[]
  /** Customers that were joined: the surviving primary, and the primaries it absorbed. */
  merges: { primaryContactId: number; absorbed: number[] }[]
}

/** How a regroup treats the rows it is given. */
export type RegroupInput = {
  rows: readonly ContactRow[]
  /** Request pairs recorded in the ledger, by their keys. */
  pairs: readonly MatchKeys[]
  /** Whether a key is blocked; the built-in rules always are. */
  isBlocked: (ref: KeyRef) => boolean
  /** Rule 3: keep each customer's rows together (a join), or let the evidence alone decide. */
  keepCustomers: boolean
}

const compareAge = (a: ContactRow, b: ContactRow) =>
  a.createdAt.getTime() - b.createdAt.getTime() || a.id - b.id

// The customer a row belongs to as the table stands: its primary, or itself.
const customerOf = (row: ContactRow) => row.linkedId ?? row.id

/** Returns the customers `input.rows` form under rules 2 to 5. */
export function planRegroup(input: RegroupInput): Regroup {
  const rows = [...input.rows].sort(compareAge)
  const blocked = (ref: KeyRef) => findBuiltInRule(ref) !== null || input.isBlocked(ref)
  const usable = (kind: KeyRef['kind'], key: string | null) =>
    key !== null && !blocked({ kind, key }) ? key : null
  const sets = createDisjointSets<string>()
  for (const row of rows) {
    const node = `r:${row.id}`
    sets.find(node)
    const email = usable('email', row.emailKey)
    const phone = usable('phoneNumber', row.phoneKey)
    if (email !== null) sets.union(node, `e:${email}`)
    if (phone !== null) sets.union(node, `p:${phone}`)
    if (input.keepCustomers) sets.union(node, `c:${customerOf(row)}`)
  }
  for (const pair of input.pairs) {
    const email = usable('email', pair.emailKey)
    const phone = usable('phoneNumber', pair.phoneKey)
    if (email !== null && phone !== null) sets.union(`e:${email}`, `p:${phone}`)
  }
  // Rows are in age order, so each group's first row is its primary, and groups come oldest first.
  const groups = new Map<string, number[]>()
  for (const row of rows) {
    const root = sets.find(`r:${row.id}`)
    const group = groups.get(root)
    if (group === undefined) groups.set(root, [row.id])
    else group.push(row.id)
  }
  const customers = [...groups.values()].map((ids) => ({ primaryId: ids[0] as number, ids }))
  const byId = new Map(rows.map((row) => [row.id, row]))
  return { customers, ...toChanges(customers, byId) }
}

function toChanges(
  customers: Regroup['customers'],
  byId: ReadonlyMap<number, ContactRow>,
): Omit<Regroup, 'customers'> {
  const relinks: Relink[] = []
  const partsByOld = new Map<number, Set<number>>()
  const oldByNew = new Map<number, Set<number>>()
  for (const { primaryId, ids } of customers) {
    for (const id of ids) {
      const row = byId.get(id) as ContactRow
      const linkedId = id === primaryId ? null : primaryId
      if (row.linkedId !== linkedId) relinks.push({ id, linkedId })
      const old = customerOf(row)
      partsByOld.set(old, (partsByOld.get(old) ?? new Set()).add(primaryId))
      oldByNew.set(primaryId, (oldByNew.get(primaryId) ?? new Set()).add(old))
    }
  }
  const splits = [...partsByOld]
    .filter(([, parts]) => parts.size > 1)
    .map(([old, parts]) => ({ primaryContactId: old, into: [...parts].sort((a, b) => a - b) }))
  const merges = [...oldByNew]
    .filter(([, olds]) => olds.size > 1)
    .map(([primaryId, olds]) => ({
      primaryContactId: primaryId,
      absorbed: [...olds].filter((old) => old !== primaryId).sort((a, b) => a - b),
    }))
  return { relinks, splits, merges }
}
