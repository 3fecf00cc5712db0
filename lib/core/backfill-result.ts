/**
 * The end state of a backfill's plan (rule 6 of lib/core/backfill.ts): rows to insert (with their
 * final link), existing rows whose link changes, quarantined values, and the events to record
 * (lib/core/ledger.ts): one `customers_merged` per order that joined customers, with its evidence,
 * as identify records it; one `customer_created`, `contact_linked` or `customer_relinked` per
 * customer changed; and the guard's events for each quarantine. Pure.
 */

import type { CustomerBook } from './backfill-customers.js'
import type { BackfillEvent } from './backfill-quarantine.js'
import { NONE, type RowTable } from './backfill-rows.js'
import type { KeyRef } from './blocklist.js'
import type { Relink } from './regroup.js'

/** A row to insert: its planned id, the line of the order it holds, its final link and time. */
export type PlannedRow = {
  id: number
  line: number
  linkedId: number | null
  at: number
  /** Whether it keeps the order's email and phone number (an erased one was dropped). */
  hasEmail: boolean
  hasPhone: boolean
}

/** What the backfill does, and what it counts for its report. */
export type BackfillPlan = {
  /** The rows to insert, in id order, produced as they are read: no array of them is built. */
  inserts: { count: number; rows: () => Generator<PlannedRow> }
  relinks: Relink[]
  quarantined: (KeyRef & { at: Date })[]
  events: BackfillEvent[]
  /** Orders refused because every key is blocked: how many, and the first lines. */
  unlinkable: { count: number; lines: number[] }
  summary: {
    newCustomers: number
    /** Existing customers that joined another customer. */
    mergedExisting: number
    /** Rows of the largest customer holding an existing customer that merged. */
    largestMerged: number
    unchangedOrders: number
  }
}

/** What the planner hands over once every order is applied. */
export type PlannerState = {
  rows: RowTable
  customers: CustomerBook
  existing: { count: number; indexById: ReadonlyMap<number, number> }
  mergedExisting: ReadonlySet<number>
  events: BackfillEvent[]
  quarantined: (KeyRef & { at: Date })[]
  unlinkable: { count: number; lines: number[] }
  unchangedOrders: number
  now: Date
}

/** Returns the plan the planner's state amounts to. */
export function toBackfillPlan(state: PlannerState): BackfillPlan {
  const { rows, customers, existing, events } = state
  const relinks: Relink[] = []
  let newCustomers = 0
  let largestMerged = 0
  for (const id of state.mergedExisting) {
    const row = existing.indexById.get(id)
    if (row !== undefined) largestMerged = Math.max(largestMerged, customers.of(row).rows.length)
  }
  for (const customer of customers.all()) {
    if (!customer.isTouched) continue
    const primaryId = rows.id(customer.primary)
    const linkOf = (row: number) => (row === customer.primary ? null : primaryId)
    const added: number[] = []
    let relinked = 0
    for (const row of customer.rows) {
      if (row >= existing.count) added.push(row)
      else if ((rows.linkRead(row) === NONE ? null : rows.linkRead(row)) !== linkOf(row)) {
        relinks.push({ id: rows.id(row), linkedId: linkOf(row) })
        relinked++
      }
    }
    const addedIds = added.sort(rows.compareAge).map(rows.id)
    const summary = (kind: BackfillEvent['kind'], contactIds: number[]) =>
      events.push({
        kind,
        primaryId,
        contactIds,
        absorbedIds: [],
        joinedBy: null,
        evidence: null,
        at: state.now,
      })
    if (added.length === customer.rows.length) {
      newCustomers++
      summary('customer_created', addedIds)
    } else if (added.length > 0) {
      summary('contact_linked', [primaryId, ...addedIds.filter((id) => id !== primaryId)])
    } else if (relinked > 0) {
      summary('customer_relinked', [primaryId])
    }
  }
  return {
    inserts: {
      count: rows.size() - existing.count,
      // Planned rows are numbered in the order they were added: index order is id order.
      *rows() {
        for (let row = existing.count; row < rows.size(); row++) {
          const { primary } = customers.of(row)
          yield {
            id: rows.id(row),
            line: rows.line(row),
            linkedId: row === primary ? null : rows.id(primary),
            at: rows.createdAt(row),
            hasEmail: rows.keyOf(row, 'email') !== NONE,
            hasPhone: rows.keyOf(row, 'phoneNumber') !== NONE,
          }
        }
      },
    },
    relinks,
    quarantined: state.quarantined,
    events,
    unlinkable: state.unlinkable,
    summary: {
      newCustomers,
      mergedExisting: state.mergedExisting.size,
      largestMerged,
      unchangedOrders: state.unchangedOrders,
    },
  }
}
