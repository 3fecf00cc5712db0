// The reference model the property tests hold the linking core to: union-find over every
// identifier seen, plus a Contact table simulated as an array, only as a harness for the core.

import { toKeys } from '../../harness/union-find.js'
import type { ContactRow, Identifiers, IdentifyResponse } from '../../lib/core/contact.js'
import type { LinkPlan } from '../../lib/core/linking.js'

/** Oldest first: `createdAt`, then `id`; written here, not imported, so the model stays independent. */
export const byAge = (a: ContactRow, b: ContactRow) =>
  a.createdAt.getTime() - b.createdAt.getTime() || a.id - b.id

/**
 * Mirrors `clusterIdsQuery` (lib/identify/store.ts): the rows holding either identifier, their
 * ancestors via `linkedId`, and every descendant of those; returned ordered by age, as the store does.
 */
export function readCluster(rows: readonly ContactRow[], request: Identifiers): ContactRow[] {
  const byId = new Map(rows.map((row) => [row.id, row]))
  const members = new Set<number>()
  for (const row of rows) {
    const matches =
      (request.email !== null && row.email === request.email) ||
      (request.phoneNumber !== null && row.phoneNumber === request.phoneNumber)
    // Walk up to the root; a row seen before stops the walk, as `union` does in SQL.
    for (let up = matches ? row : undefined; up !== undefined && !members.has(up.id); ) {
      members.add(up.id)
      up = up.linkedId === null ? undefined : byId.get(up.linkedId)
    }
  }
  const queue = [...members]
  for (let id = queue.pop(); id !== undefined; id = queue.pop()) {
    for (const child of rows) {
      if (child.linkedId === id && !members.has(child.id)) {
        members.add(child.id)
        queue.push(child.id)
      }
    }
  }
  return rows.filter((row) => members.has(row.id)).sort(byAge)
}

/**
 * Mirrors `buildWrites` (lib/identify/store.ts): promote, then relink, then insert with `nextId`.
 * Returns the new table and the inserted id; the input table is left untouched.
 */
export function applyPlan(
  rows: readonly ContactRow[],
  plan: LinkPlan,
  nextId: number,
): { rows: ContactRow[]; insertedId: number | null } {
  let table = [...rows]
  const { primaryId } = plan
  if (plan.promotesPrimary && primaryId !== null) {
    table = table.map((row) =>
      row.id === primaryId ? { ...row, linkedId: null, linkPrecedence: 'primary' } : row,
    )
  }
  if (plan.relinkIds.length > 0 && primaryId !== null) {
    const relinked = new Set(plan.relinkIds)
    table = table.map((row) =>
      relinked.has(row.id) ? { ...row, linkedId: primaryId, linkPrecedence: 'secondary' } : row,
    )
  }
  if (plan.insert === null) return { rows: table, insertedId: null }
  table.push({ ...plan.insert, id: nextId })
  return { rows: table, insertedId: nextId }
}

/**
 * Groups the table into customers: each row goes to the root it reaches by following `linkedId`
 * (a row whose parent is missing is its own root). Throws on a cycle, which the core must not leave.
 */
export function groupCustomers(rows: readonly ContactRow[]): Map<number, ContactRow[]> {
  const byId = new Map(rows.map((row) => [row.id, row]))
  const customers = new Map<number, ContactRow[]>()
  for (const row of rows) {
    let root = row
    for (let steps = 0; root.linkedId !== null && byId.has(root.linkedId); steps++) {
      if (steps > rows.length) throw new Error(`Cycle through row ${row.id}`)
      root = byId.get(root.linkedId) ?? root
    }
    customers.set(root.id, [...(customers.get(root.id) ?? []), row])
  }
  return customers
}

/** The identifier keys a customer's rows hold, sorted. */
export function toCustomerKeys(rows: readonly ContactRow[]): string[] {
  return [...new Set(rows.flatMap(toKeys))].sort()
}

/**
 * The answer the task statement asks for, computed from a customer's rows as stored: its primary
 * row, then the distinct emails and phone numbers primary first and the rest in age order.
 */
export function describeCustomer(rows: readonly ContactRow[]): IdentifyResponse {
  const primaries = rows.filter((row) => row.linkPrecedence === 'primary')
  const [primary] = primaries
  if (primary === undefined || primaries.length > 1) throw new Error('Not exactly one primary')
  const others = rows.filter((row) => row !== primary).sort(byAge)
  const distinct = (values: (string | null)[]) => [
    ...new Set(values.filter((value) => value !== null)),
  ]
  return {
    contact: {
      primaryContactId: primary.id,
      emails: distinct([primary, ...others].map((row) => row.email)),
      phoneNumbers: distinct([primary, ...others].map((row) => row.phoneNumber)),
      secondaryContactIds: others.map((row) => row.id),
    },
  }
}
