/**
 * The backfill's rules: what sending each order to identify, oldest first, would leave in the
 * table, computed in one streaming pass. Pure. lib/backfill/ reads the table and writes the result.
 *
 * 1. Orders are applied in the order given (the caller sorts them by `createdAt`, then line), each
 *    as identify would at `now = createdAt` (lib/core/linking.ts, lib/identify/shell.ts): the
 *    customers holding an order's unblocked keys join under the oldest primary, and a row is
 *    inserted when the order brings a key the customer lacks, stamped no older than the customer's
 *    newest row (linking rule 4).
 * 2. An order whose every key is blocked (built in, or on the store's blocklist) is refused, as
 *    identify refuses it (422).
 * 3. An order that would insert a row making one of its values hold more values of the other kind
 *    than the sharing limits allow quarantines the value first, regrouping the customers holding
 *    it by what is left of the evidence (lib/core/backfill-quarantine.ts), then links through
 *    what is left.
 * 4. Customers are kept as sets of rows with their primary, merged smaller into larger
 *    (lib/core/backfill-customers.ts), so an order costs time in the rows it touches.
 * 5. Nothing of an order is kept unless it inserts a row or joins customers; a row keeps its keys
 *    (interned) and its order's line, not its values (lib/core/backfill-rows.ts).
 * 6. The result is the end state only (lib/core/backfill-result.ts).
 */

import {
  addExistingCustomers,
  type Customer,
  createCustomerBook,
  toRefText,
} from './backfill-customers.js'
import { type BackfillEvent, createPairIndex, quarantineValue } from './backfill-quarantine.js'
import { type BackfillPlan, toBackfillPlan } from './backfill-result.js'
import { createRowTable, NONE } from './backfill-rows.js'
import { findBuiltInRule, type KeyRef, type SharingLimits } from './blocklist.js'
import type { IdentifierKind, KeyedIdentifiers, MatchKeys } from './contact.js'
import type { JoinedBy } from './ledger.js'

/** One order of the file, validated and keyed; `at` is its `createdAt` in epoch milliseconds. */
export type BackfillOrder = KeyedIdentifiers & { line: number; at: number }

/** What the planner needs of an order: its keys, line and time. */
export type PlannedOrder = MatchKeys & { line: number; at: number }

/** A live row of the table, as the planner needs it; `at` is `createdAt` in epoch milliseconds. */
export type BackfillRow = MatchKeys & { id: number; linkedId: number | null; at: number }

/** What the backfill starts from, and how it numbers the rows it inserts. */
export type BackfillInput = {
  /** Every live row of every customer the orders' keys touch (whole linked components). */
  rows: Iterable<BackfillRow>
  /** The store's blocklist, as `kind:key`. */
  blocked: ReadonlySet<string>
  /** The request pairs the ledger recorded (both keys present) that hold a key of `rows` or of the orders. */
  pairs: readonly MatchKeys[]
  limits: SharingLimits
  /** The id the first inserted row gets; later ones count up. Above every id of `rows`. */
  firstNewId: number
  /** When the backfill runs: the time of the events that sum up each changed customer. */
  now: Date
}

export type { BackfillEvent } from './backfill-quarantine.js'
export type { BackfillPlan, PlannedRow } from './backfill-result.js'

/** How many refused lines a plan names; the rest are counted. */
export const MAX_NAMED_LINES = 20

/** Returns a planner: `apply` each order in turn (rules 1 to 5), then `finish` (rule 6). */
export function createBackfillPlanner(input: BackfillInput) {
  const { limits } = input
  const blocked = new Set(input.blocked)
  const rows = createRowTable()
  // The built-in rules, asked once per distinct key (they lower-case and slice it each time).
  const isBuiltIn = (kind: IdentifierKind, key: number) => {
    const keys = rows.keys[kind]
    let answer = keys.memo(key)
    if (answer === 0) {
      answer = findBuiltInRule({ kind, key: keys.text(key) }) === null ? 1 : 2
      keys.remember(key, answer)
    }
    return answer === 2
  }
  // Most backfills block nothing: no key text is built to ask an empty blocklist.
  const isStoreBlocked = (kind: IdentifierKind, key: number) =>
    blocked.size > 0 && blocked.has(toRefText(kind, rows.keys[kind].text(key)))
  const customers = createCustomerBook(
    rows,
    (kind, key) => isBuiltIn(kind, key) || isStoreBlocked(kind, key),
  )
  const pairs = createPairIndex(input.pairs)
  const existing = addExistingCustomers(input.rows, rows, customers)
  const events: BackfillEvent[] = []
  const quarantined: (KeyRef & { at: Date })[] = []
  const unlinkable = { count: 0, lines: [] as number[] }
  const mergedExisting = new Set<number>()
  let unchangedOrders = 0
  const refuse = (line: number) => {
    unlinkable.count++
    if (unlinkable.lines.length < MAX_NAMED_LINES) unlinkable.lines.push(line)
  }

  const customersHolding = (kind: IdentifierKind, key: number, into: Set<Customer>) =>
    rows.keys[kind].forEachRow(key, (row) => into.add(customers.of(row)))
  const holds = (cluster: Set<Customer>, kind: IdentifierKind, key: number, isRead: boolean) => {
    if (key === NONE) return false
    if (isRead) return rows.keys[kind].count(key) > 0
    const tag = toRefText(kind, rows.keys[kind].text(key))
    for (const customer of cluster) if (customer.blocked?.has(tag) === true) return true
    return false
  }
  // How many distinct keys of the other kind the rows holding `key` have, with `extra`.
  const countPartners = (kind: IdentifierKind, key: number, extra: number, limit: number) => {
    // Fewer rows than the limit cannot hold more partners than it.
    if (rows.keys[kind].count(key) + 1 <= limit) return 0
    const other = kind === 'email' ? 'phoneNumber' : 'email'
    const partners = new Set<number>()
    if (extra !== NONE) partners.add(extra)
    rows.keys[kind].forEachRow(key, (row) => {
      const partner = rows.keyOf(row, other)
      if (partner !== NONE) partners.add(partner)
    })
    return partners.size
  }
  const isOver = (kind: IdentifierKind, key: number, extra: number) => {
    const limit = kind === 'email' ? limits.maxPhonesPerEmail : limits.maxEmailsPerPhone
    return countPartners(kind, key, extra, limit) > limit
  }

  const apply = (order: PlannedOrder) => {
    const email = order.emailKey === null ? NONE : rows.keys.email.intern(order.emailKey)
    const phone = order.phoneKey === null ? NONE : rows.keys.phoneNumber.intern(order.phoneKey)
    const linkEmail = email !== NONE && !isBuiltIn('email', email)
    const linkPhone = phone !== NONE && !isBuiltIn('phoneNumber', phone)
    if (!linkEmail && !linkPhone) return refuse(order.line)
    const quarantinedHere = new Set<IdentifierKind>()
    for (;;) {
      const readEmail = linkEmail && !isStoreBlocked('email', email)
      const readPhone = linkPhone && !isStoreBlocked('phoneNumber', phone)
      const cluster = new Set<Customer>()
      if (readEmail) customersHolding('email', email, cluster)
      if (readPhone) customersHolding('phoneNumber', phone, cluster)
      if (cluster.size === 0 && !readEmail && !readPhone) return refuse(order.line)
      const hasEmail = holds(cluster, 'email', email, readEmail)
      const hasPhone = holds(cluster, 'phoneNumber', phone, readPhone)
      const inserts = (email !== NONE && !hasEmail) || (phone !== NONE && !hasPhone)
      if (inserts) {
        const over: KeyRef[] = []
        if (
          readPhone &&
          !quarantinedHere.has('phoneNumber') &&
          isOver('phoneNumber', phone, email)
        ) {
          over.push({ kind: 'phoneNumber', key: order.phoneKey as string })
        }
        if (readEmail && !quarantinedHere.has('email') && isOver('email', email, phone)) {
          over.push({ kind: 'email', key: order.emailKey as string })
        }
        if (over.length > 0) {
          for (const ref of over) {
            events.push(...quarantineValue({ rows, customers, pairs, blocked }, ref, order.at))
            quarantined.push({ ...ref, at: new Date(order.at) })
            quarantinedHere.add(ref.kind)
          }
          continue
        }
      }
      return linkOrder(order, cluster, inserts, toJoinedBy(hasEmail, hasPhone))
    }
  }

  const linkOrder = (
    order: PlannedOrder,
    cluster: Set<Customer>,
    inserts: boolean,
    joinedBy: JoinedBy | null,
  ) => {
    const { at, line, emailKey, phoneKey } = order
    const newRow = (stamp: number) =>
      rows.add(
        { id: input.firstNewId + rows.size() - existing.count, at: stamp, link: NONE, line },
        emailKey,
        phoneKey,
      )
    if (cluster.size === 0) {
      const row = newRow(at)
      customers.make([row], row, []).isTouched = true
      return
    }
    const leaders = [...cluster].sort((a, b) => rows.compareAge(a.primary, b.primary))
    const survivor = leaders[0] as Customer
    const primaryId = rows.id(survivor.primary)
    if (leaders.length > 1) {
      const absorbedIds = leaders.slice(1).map((customer) => rows.id(customer.primary))
      for (const customer of leaders) for (const id of customer.existing) mergedExisting.add(id)
      events.push({
        kind: 'customers_merged',
        primaryId,
        contactIds: [primaryId, ...absorbedIds],
        absorbedIds,
        joinedBy,
        evidence: { line, emailKey, phoneKey },
        at: new Date(at),
      })
      pairs.add({ emailKey, phoneKey })
    }
    const customer = customers.merge(cluster, survivor)
    if (!inserts) {
      if (leaders.length === 1) unchangedOrders++
      return
    }
    // Linking rule 4: a row never looks older than the customer it joins.
    customers.join(customer, newRow(Math.max(at, customer.newest)))
  }

  return {
    apply,
    finish: (): BackfillPlan =>
      toBackfillPlan({
        rows,
        customers,
        existing,
        mergedExisting,
        events,
        quarantined,
        unlinkable,
        unchangedOrders,
        now: input.now,
      }),
  }
}

/** Applies `orders` to the table `input` describes, at once: for tests and small files. */
export function planBackfill(input: BackfillInput, orders: Iterable<PlannedOrder>): BackfillPlan {
  const planner = createBackfillPlanner(input)
  for (const order of orders) planner.apply(order)
  return planner.finish()
}

function toJoinedBy(hasEmail: boolean, hasPhone: boolean): JoinedBy | null {
  if (hasEmail && hasPhone) return 'both'
  if (hasEmail) return 'email'
  return hasPhone ? 'phoneNumber' : null
}
