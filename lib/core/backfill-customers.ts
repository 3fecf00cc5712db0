/**
 * The backfill's customers: sets of rows with their primary, merged smaller into larger, so an
 * order costs time in the rows it touches, never in its customer's size. Pure.
 */

import type { BackfillRow } from './backfill.js'
import { NONE, type RowTable } from './backfill-rows.js'
import type { IdentifierKind } from './contact.js'

/** A customer as the plan goes: its rows (indexes into the row table) and what it knows of them. */
export type Customer = {
  rows: number[]
  primary: number
  /** `createdAt` of its newest row, in epoch milliseconds (linking rule 4). */
  newest: number
  /** Blocked keys its rows hold, as `kind:key`: whether it holds one needs no scan of its rows. */
  blocked: Set<string> | null
  /** Primary ids of the existing customers it holds. */
  existing: number[]
  isTouched: boolean
}

/** `kind:key`, as the blocklist is read. */
export const toRefText = (kind: IdentifierKind, key: string) => `${kind}:${key}`

/** Which customer each row is in, and how customers are made and merged. */
export type CustomerBook = ReturnType<typeof createCustomerBook>

/**
 * Returns the customers of `rows`; `isBlocked` says whether a key (by number) is blocked now,
 * built-in or on the blocklist.
 */
export function createCustomerBook(
  rows: RowTable,
  isBlocked: (kind: IdentifierKind, key: number) => boolean,
) {
  const customerOf: Customer[] = []
  // Notes the blocked keys `row` holds on its customer (most rows hold none).
  const holdBlocked = (customer: Customer, row: number) => {
    for (const kind of ['email', 'phoneNumber'] as const) {
      const key = rows.keyOf(row, kind)
      if (key === NONE || !isBlocked(kind, key)) continue
      customer.blocked ??= new Set()
      customer.blocked.add(toRefText(kind, rows.keys[kind].text(key)))
    }
  }
  return {
    of: (row: number) => customerOf[row] as Customer,
    /** Every customer, each once, in the order of its first row. */
    *all(): Generator<Customer> {
      const listed = new WeakSet<Customer>()
      for (const customer of customerOf) {
        if (listed.has(customer)) continue
        listed.add(customer)
        yield customer
      }
    },
    make(members: number[], primary: number, existing: number[]): Customer {
      const customer: Customer = {
        rows: members,
        primary,
        newest: members.reduce((newest, row) => Math.max(newest, rows.createdAt(row)), 0),
        blocked: null,
        existing,
        isTouched: false,
      }
      for (const row of members) {
        customerOf[row] = customer
        holdBlocked(customer, row)
      }
      return customer
    },
    /** Adds a planned row to `customer`, as its newest. */
    join(customer: Customer, row: number) {
      customer.rows.push(row)
      customerOf[row] = customer
      customer.newest = Math.max(customer.newest, rows.createdAt(row))
      holdBlocked(customer, row)
    },
    /** Joins `cluster` under `survivor`'s primary, moving the smaller customers' rows. */
    merge(cluster: Iterable<Customer>, survivor: Customer): Customer {
      const members = [...cluster]
      let into = survivor
      for (const customer of members) if (customer.rows.length > into.rows.length) into = customer
      for (const customer of members) {
        if (customer === into) continue
        for (const row of customer.rows) {
          into.rows.push(row)
          customerOf[row] = into
        }
        for (const tag of customer.blocked ?? []) {
          into.blocked ??= new Set()
          into.blocked.add(tag)
        }
        for (const id of customer.existing) into.existing.push(id)
        into.newest = Math.max(into.newest, customer.newest)
      }
      into.primary = survivor.primary
      into.isTouched = true
      return into
    },
  }
}

/**
 * Adds the rows read to `rows` and makes their linked components customers, each led by its root
 * (or, for a cycle an older service left, its oldest row), as lib/core/linking.ts `findLeaders`
 * decides; returns how many rows were read and each one's index by id.
 */
export function addExistingCustomers(
  read: Iterable<BackfillRow>,
  rows: RowTable,
  customers: CustomerBook,
) {
  const indexById = new Map<number, number>()
  for (const row of read) {
    const index = rows.add(
      { id: row.id, at: row.at, link: row.linkedId ?? NONE, line: 0 },
      row.emailKey,
      row.phoneKey,
    )
    indexById.set(row.id, index)
  }
  const count = rows.size()
  const parent = Array.from({ length: count }, (_, index) => index)
  const find = (index: number): number => {
    let root = index
    while (parent[root] !== root) root = parent[root] as number
    for (let at = index; at !== root; ) {
      const up = parent[at] as number
      parent[at] = root
      at = up
    }
    return root
  }
  const parentOf = (index: number) => {
    const link = rows.linkRead(index)
    return link === NONE ? undefined : indexById.get(link)
  }
  for (let index = 0; index < count; index++) {
    const up = parentOf(index)
    if (up !== undefined) parent[find(index)] = find(up)
  }
  const components = new Map<number, { members: number[]; leader: number }>()
  const byAge = Array.from({ length: count }, (_, index) => index).sort(rows.compareAge)
  for (const index of byAge) {
    const root = find(index)
    const component = components.get(root)
    if (component === undefined) components.set(root, { members: [index], leader: index })
    else {
      component.members.push(index)
      if (parentOf(index) === undefined && parentOf(component.leader) !== undefined) {
        component.leader = index
      }
    }
  }
  for (const { members, leader } of components.values()) {
    customers.make(members, leader, [rows.id(leader)])
  }
  return { count, indexById }
}
