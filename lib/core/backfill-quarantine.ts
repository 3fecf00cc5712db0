/**
 * A quarantine inside a backfill (rule 3 of lib/core/backfill.ts): the value is blocked and the
 * customers holding it regrouped by what is left of the evidence, as lib/guard/shell.ts
 * `blockValue` does, fed what it reads. Pure.
 */

import type { Customer, CustomerBook } from './backfill-customers.js'
import { toRefText } from './backfill-customers.js'
import type { RowTable } from './backfill-rows.js'
import type { KeyRef } from './blocklist.js'
import type { ContactRow, MatchKeys } from './contact.js'
import { toSplitEvents } from './guard-events.js'
import type { PlannedEvent } from './ledger.js'
import { planRegroup } from './regroup.js'

/** An event of the plan, at `at`; ids at or above the plan's first new id name planned rows. */
export type BackfillEvent = Omit<PlannedEvent, 'primaryId' | 'contactIds' | 'evidence'> & {
  primaryId: number
  contactIds: number[]
  /** The order that joined customers, by line, and its keys (`customers_merged` only). */
  evidence: ({ line: number } & MatchKeys) | null
  at: Date
}

/** The request pairs the ledger recorded, by `kind:key` of either key. */
export function createPairIndex(pairs: readonly MatchKeys[]) {
  const byTag = new Map<string, MatchKeys[]>()
  const add = (pair: MatchKeys) => {
    if (pair.emailKey === null || pair.phoneKey === null) return
    for (const tag of [
      toRefText('email', pair.emailKey),
      toRefText('phoneNumber', pair.phoneKey),
    ]) {
      const list = byTag.get(tag)
      if (list === undefined) byTag.set(tag, [pair])
      else list.push(pair)
    }
  }
  for (const pair of pairs) add(pair)
  return { add, get: (tag: string) => byTag.get(tag) ?? [] }
}

/** What a quarantine reads and changes. */
export type QuarantineScope = {
  rows: RowTable
  customers: CustomerBook
  pairs: ReturnType<typeof createPairIndex>
  /** The store's blocklist as `kind:key`; the quarantined value is added to it. */
  blocked: Set<string>
}

/**
 * Blocks `ref` at `at` and regroups the customers holding it; returns the events it records
 * (one `identifier_quarantined` per customer, then the splits).
 */
export function quarantineValue(scope: QuarantineScope, ref: KeyRef, at: number): BackfillEvent[] {
  const { rows, customers, blocked } = scope
  const tag = toRefText(ref.kind, ref.key)
  const key = rows.keys[ref.kind].find(ref.key)
  const holders: number[] = []
  rows.keys[ref.kind].forEachRow(key, (row) => holders.push(row))
  // The chain runs newest first; the guard reads rows oldest first.
  holders.reverse()
  const touched = new Set<Customer>(holders.map(customers.of))
  const members = [...touched].flatMap((customer) => customer.rows)
  const rowTags = new Set<string>([tag])
  for (const row of members) {
    for (const kind of ['email', 'phoneNumber'] as const) {
      const text = rows.keyText(row, kind)
      if (text !== null) rowTags.add(toRefText(kind, text))
    }
  }
  const pairs = new Set<MatchKeys>()
  for (const rowTag of rowTags) for (const pair of scope.pairs.get(rowTag)) pairs.add(pair)
  const asRow = (row: number): ContactRow => {
    const customer = customers.of(row)
    const isPrimary = customer.primary === row
    return {
      // The regroup compares keys only: the values stay in the file.
      email: null,
      phoneNumber: null,
      emailKey: rows.keyText(row, 'email'),
      phoneKey: rows.keyText(row, 'phoneNumber'),
      id: rows.id(row),
      linkedId: isPrimary ? null : rows.id(customer.primary),
      linkPrecedence: isPrimary ? 'primary' : 'secondary',
      createdAt: new Date(rows.createdAt(row)),
    }
  }
  const regroup = planRegroup({
    rows: members.map(asRow),
    pairs: [...pairs],
    // The guard knows the blocklist only for the keys of the rows it read.
    isBlocked: (other) => {
      const otherTag = toRefText(other.kind, other.key)
      return otherTag === tag || (rowTags.has(otherTag) && blocked.has(otherTag))
    },
    keepCustomers: false,
  })
  const when = new Date(at)
  const holding = new Set(holders)
  const events: BackfillEvent[] = []
  for (const customer of touched) {
    const primaryId = rows.id(customer.primary)
    const ids = customer.rows.filter((row) => holding.has(row)).map(rows.id)
    events.push({
      kind: 'identifier_quarantined',
      primaryId,
      contactIds: [...new Set([primaryId, ...ids])],
      absorbedIds: [],
      joinedBy: ref.kind,
      evidence: null,
      at: when,
    })
  }
  for (const split of toSplitEvents(regroup, ref.kind)) {
    events.push({ ...split, evidence: null, at: when })
  }
  blocked.add(tag)
  const indexOfId = new Map(members.map((row) => [rows.id(row), row]))
  const existingIds = new Set([...touched].flatMap((customer) => customer.existing))
  for (const part of regroup.customers) {
    const customer = customers.make(
      part.ids.map((id) => indexOfId.get(id) as number),
      indexOfId.get(part.primaryId) as number,
      part.ids.filter((id) => existingIds.has(id)),
    )
    customer.isTouched = true
  }
  return events
}
