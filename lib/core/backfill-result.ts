/**
 * The end state of a backfill's plan (rule 6 of lib/core/backfill.ts): rows to insert (with their
 * final link), existing rows whose link changes, quarantined values, and the events to record
 * (lib/core/ledger.ts): one `customers_merged` per order that joined customers, with its evidence,
 * as identify records it; one `customer_created`, `contact_linked` or `customer_relinked` per
 * customer changed; and the guard's events for each quarantine. Pure.
 */

import type { Customer, CustomerBook } from './backfill-customers.js'
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
  /** The events in the order to record them: the plan's own, then one summary per customer. */
  events: { count: number; all: () => Generator<BackfillEvent> }
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
  const { rows, customers, existing } = state
  const relinks: Relink[] = []
  let newCustomers = 0
  let largestMerged = 0
  let summaries = 0
  for (const id of state.mergedExisting) {
    const row = existing.indexById.get(id)
    if (row !== undefined) largestMerged = Math.max(largestMerged, customers.of(row).rows.length)
  }
  // One pass counts and finds the relinks; the summary events are made as they are read
  // (`events.all`), so a million new customers cost no million event objects at once.
  for (const customer of customers.all()) {
    if (!customer.isTouched) continue
    let added = 0
    let relinked = 0
    for (const row of customer.rows) {
      if (row >= existing.count) added++
      else if (toLinkRead(rows, row) !== linkIn(customer, rows, row)) {
        relinks.push({ id: rows.id(row), linkedId: linkIn(customer, rows, row) })
        relinked++
      }
    }
    if (added === customer.rows.length) newCustomers++
    if (added > 0 || relinked > 0) summaries++
  }
  return {
    inserts: {
      count: rows.size() - existing.count,
      // Planned rows are numbered in the order they were added: index order is id order.
      *rows() {
        for (let row = existing.count; row < rows.size(); row++) {
          yield {
            id: rows.id(row),
            line: rows.line(row),
            linkedId: linkIn(customers.of(row), rows, row),
            at: rows.createdAt(row),
            hasEmail: rows.keyOf(row, 'email') !== NONE,
            hasPhone: rows.keyOf(row, 'phoneNumber') !== NONE,
          }
        }
      },
    },
    relinks,
    quarantined: state.quarantined,
    events: {
      count: state.events.length + summaries,
      *all() {
        yield* state.events
        for (const customer of customers.all()) {
          if (customer.isTouched) yield* toSummaryEvents(customer, state)
        }
      },
    },
    unlinkable: state.unlinkable,
    summary: {
      newCustomers,
      mergedExisting: state.mergedExisting.size,
      largestMerged,
      unchangedOrders: state.unchangedOrders,
    },
  }
}

// The link a row has as read, or null.
const toLinkRead = (rows: RowTable, row: number) =>
  rows.linkRead(row) === NONE ? null : rows.linkRead(row)

// The link a row of `customer` ends with: none for its primary, else the primary's id.
const linkIn = (customer: Customer, rows: RowTable, row: number) =>
  row === customer.primary ? null : rows.id(customer.primary)

// The event summing up what the plan did to one customer: created, rows added, or relinked.
function* toSummaryEvents(customer: Customer, state: PlannerState): Generator<BackfillEvent> {
  const { rows, existing } = state
  const primaryId = rows.id(customer.primary)
  const added = customer.rows.filter((row) => row >= existing.count)
  const event = (kind: BackfillEvent['kind'], contactIds: number[]): BackfillEvent => ({
    kind,
    primaryId,
    contactIds,
    absorbedIds: [],
    joinedBy: null,
    evidence: null,
    at: state.now,
  })
  const addedIds = added.sort(rows.compareAge).map(rows.id)
  if (added.length === customer.rows.length) yield event('customer_created', addedIds)
  else if (added.length > 0) {
    yield event('contact_linked', [primaryId, ...addedIds.filter((id) => id !== primaryId)])
  } else if (customer.rows.some((row) => toLinkRead(rows, row) !== linkIn(customer, rows, row))) {
    yield event('customer_relinked', [primaryId])
  }
}
