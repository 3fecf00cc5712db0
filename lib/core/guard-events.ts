/** The ledger events the guard's operations record (README, "The evidence ledger"). */
import type { KeyRef } from './blocklist.js'
import type { ContactRow } from './contact.js'
import type { PlannedEvent } from './ledger.js'
import type { Regroup } from './regroup.js'

/** The customer a row belongs to as the table stands: its primary, or itself. */
export const customerOf = (row: ContactRow) => row.linkedId ?? row.id

/** Whether `row` holds the value `ref`. */
export const holds = (row: ContactRow, { kind, key }: KeyRef) =>
  (kind === 'email' ? row.emailKey : row.phoneKey) === key

/** One event per customer the value touched, naming the rows that hold it. */
export function toTouchEvents(
  kind: PlannedEvent['kind'],
  ref: KeyRef,
  rows: readonly ContactRow[],
): PlannedEvent[] {
  const byCustomer = new Map<number, number[]>()
  for (const row of rows) {
    if (!holds(row, ref)) continue
    const ids = byCustomer.get(customerOf(row)) ?? []
    ids.push(row.id)
    byCustomer.set(customerOf(row), ids)
  }
  return [...byCustomer].map(([primaryId, ids]) => ({
    kind,
    primaryId,
    contactIds: [...new Set([primaryId, ...ids])],
    absorbedIds: [],
    joinedBy: ref.kind,
    evidence: null,
  }))
}

/** One `customer_split` per customer a regroup split: the old primary, then the new ones. */
export function toSplitEvents(
  regroup: Regroup,
  kind: KeyRef['kind'],
): (PlannedEvent & { primaryId: number; contactIds: number[] })[] {
  return regroup.splits.map((split) => ({
    kind: 'customer_split',
    primaryId: split.primaryContactId,
    contactIds: [
      split.primaryContactId,
      ...split.into.filter((id) => id !== split.primaryContactId),
    ],
    absorbedIds: [],
    joinedBy: kind,
    evidence: null,
  }))
}
/** One `customers_merged` per customer a regroup joined, absorbed primaries after the survivor. */
export function toMergeEvents(regroup: Regroup, kind: KeyRef['kind']): PlannedEvent[] {
  return regroup.merges.map((merge) => ({
    kind: 'customers_merged',
    primaryId: merge.primaryContactId,
    contactIds: [merge.primaryContactId, ...merge.absorbed],
    absorbedIds: merge.absorbed,
    joinedBy: kind,
    evidence: null,
  }))
}
