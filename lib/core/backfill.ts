/**
 * The backfill's rules: what sending each order to identify, oldest first, would leave in the
 * table, computed in one pass in memory. Pure. lib/backfill/ reads the table and writes the result.
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
 *    it by what is left of the evidence (lib/core/regroup.ts), then links through what is left.
 * 4. Customers are kept as sets of rows with their primary, merged smaller into larger, so an
 *    order costs time in the rows it touches, never in the size of its customer.
 * 5. The result is the end state only: rows to insert (with their final link), existing rows whose
 *    link changes, quarantined values, and the events to record (lib/core/ledger.ts): one
 *    `customers_merged` per order that joined customers, with its evidence, as identify records
 *    it; one `customer_created`, `contact_linked` or `customer_relinked` per customer changed; and
 *    the guard's events for each quarantine.
 */
import { findBuiltInRule, type KeyRef, type SharingLimits } from './blocklist.js'
import type { ContactRow, IdentifierKind, KeyedIdentifiers, MatchKeys } from './contact.js'
import { toSplitEvents } from './guard-events.js'
import type { JoinedBy, PlannedEvent } from './ledger.js'
import { planRegroup, type Relink } from './regroup.js'

/** One order of the file, validated and keyed; `at` is its `createdAt` in epoch milliseconds. */
export type BackfillOrder = KeyedIdentifiers & { line: number; at: number }

/** What the backfill starts from, and how it numbers the rows it inserts. */
export type BackfillInput = {
  /** Every live row of every customer the orders' keys touch (whole linked components). */
  rows: readonly ContactRow[]
  /** The store's blocklist, as `kind:key`. */
  blocked: ReadonlySet<string>
  /** The request pairs the ledger recorded (both keys present). */
  pairs: readonly MatchKeys[]
  limits: SharingLimits
  /** The id the first inserted row gets; later ones count up. Above every id of `rows`. */
  firstNewId: number
  /** When the backfill runs: the time of the events that sum up each changed customer. */
  now: Date
}

/** A row to insert, with its final link. */
export type BackfillInsert = KeyedIdentifiers & {
  id: number
  linkedId: number | null
  createdAt: Date
}

/** An event to record, at `at`; ids at or above `firstNewId` name inserted rows. */
export type BackfillEvent = Omit<PlannedEvent, 'primaryId' | 'contactIds'> & {
  primaryId: number
  contactIds: number[]
  at: Date
}

/** What the backfill does, and what it counts for its report. */
export type BackfillPlan = {
  inserts: BackfillInsert[]
  relinks: Relink[]
  quarantined: (KeyRef & { at: Date })[]
  events: BackfillEvent[]
  /** Lines of orders refused because every key is blocked (rule 2). */
  unlinkableLines: number[]
  summary: {
    newCustomers: number
    /** Existing customers that joined another customer. */
    mergedExisting: number
    /** Rows of the largest customer holding an existing customer that merged. */
    largestMerged: number
    unchangedOrders: number
  }
}

type Customer = {
  rows: number[]
  primary: number
  newest: number
  /** Blocked keys its rows hold, as `kind:key`: whether it holds one needs no scan of its rows. */
  blocked: Set<string> | null
  /** Primary ids of the existing customers it holds. */
  existing: number[]
  touched: boolean
}

const refText = (kind: IdentifierKind, key: string) => `${kind}:${key}`

/** Applies `orders` to the table `input` describes (rules 1 to 5). */
export function planBackfill(input: BackfillInput, orders: readonly BackfillOrder[]): BackfillPlan {
  const graph = createGraph(input)
  for (const order of orders) graph.apply(order)
  return graph.finish()
}

function createGraph(input: BackfillInput) {
  const { limits } = input
  const blocked = new Set(input.blocked)
  // The built-in rules, asked once per distinct key (they lower-case and slice it each time).
  const builtIn = { email: new Map<string, boolean>(), phoneNumber: new Map<string, boolean>() }
  const isBuiltIn = (kind: IdentifierKind, key: string) => {
    let answer = builtIn[kind].get(key)
    if (answer === undefined) {
      answer = findBuiltInRule({ kind, key }) !== null
      builtIn[kind].set(key, answer)
    }
    return answer
  }
  // Most backfills block nothing: no key text is built to ask an empty blocklist.
  const isStoreBlocked = (kind: IdentifierKind, key: string) =>
    blocked.size > 0 && blocked.has(refText(kind, key))
  const isBlocked = (kind: IdentifierKind, key: string) =>
    isBuiltIn(kind, key) || isStoreBlocked(kind, key)
  // Rows by index: the existing ones first, then those inserted, in order.
  const ids: number[] = []
  const values: KeyedIdentifiers[] = []
  const created: number[] = []
  const links: (number | null)[] = []
  const customerOf: Customer[] = []
  // Rows by key, one map per kind: no key text is built to look a row up.
  const rowsByEmail = new Map<string, number[]>()
  const rowsByPhone = new Map<string, number[]>()
  const rowsOf = (kind: IdentifierKind, key: string): number[] | undefined =>
    (kind === 'email' ? rowsByEmail : rowsByPhone).get(key)
  const indexRow = (map: Map<string, number[]>, key: string | null, row: number) => {
    if (key === null) return
    const list = map.get(key)
    if (list === undefined) map.set(key, [row])
    else list.push(row)
  }
  const pairsByKey = new Map<string, MatchKeys[]>()
  const existingCount = input.rows.length
  const events: BackfillEvent[] = []
  const quarantined: BackfillPlan['quarantined'] = []
  const unlinkableLines: number[] = []
  const mergedExisting = new Set<number>()
  let unchangedOrders = 0

  const addPair = (pair: MatchKeys) => {
    if (pair.emailKey === null || pair.phoneKey === null) return
    for (const tag of [refText('email', pair.emailKey), refText('phoneNumber', pair.phoneKey)]) {
      const list = pairsByKey.get(tag)
      if (list === undefined) pairsByKey.set(tag, [pair])
      else list.push(pair)
    }
  }
  for (const pair of input.pairs) addPair(pair)

  const compareAge = (a: number, b: number) =>
    (created[a] as number) - (created[b] as number) || (ids[a] as number) - (ids[b] as number)
  const tagsOf = (row: number): string[] => {
    const { emailKey, phoneKey } = values[row] as KeyedIdentifiers
    return [
      ...(emailKey === null ? [] : [refText('email', emailKey)]),
      ...(phoneKey === null ? [] : [refText('phoneNumber', phoneKey)]),
    ]
  }
  const addRow = (row: KeyedIdentifiers, id: number, at: number, link: number | null) => {
    const added = ids.length
    ids.push(id)
    values.push(row)
    created.push(at)
    links.push(link)
    indexRow(rowsByEmail, row.emailKey, added)
    indexRow(rowsByPhone, row.phoneKey, added)
    return added
  }
  // Notes the blocked keys `row` holds on its customer (most rows hold none).
  const holdBlocked = (customer: Customer, row: number) => {
    const { emailKey, phoneKey } = values[row] as KeyedIdentifiers
    if (emailKey !== null && isBlocked('email', emailKey)) {
      customer.blocked ??= new Set()
      customer.blocked.add(refText('email', emailKey))
    }
    if (phoneKey !== null && isBlocked('phoneNumber', phoneKey)) {
      customer.blocked ??= new Set()
      customer.blocked.add(refText('phoneNumber', phoneKey))
    }
  }
  const makeCustomer = (rows: number[], primary: number, existing: number[]): Customer => {
    const customer: Customer = {
      rows,
      primary,
      newest: rows.reduce((newest, row) => Math.max(newest, created[row] as number), 0),
      blocked: null,
      existing,
      touched: false,
    }
    for (const row of rows) {
      customerOf[row] = customer
      holdBlocked(customer, row)
    }
    return customer
  }

  // The existing rows, grouped into their linked components, each led by its root (or, for a
  // cycle an older service left, its oldest row), as lib/core/linking.ts `findLeaders` decides.
  const indexById = new Map<number, number>()
  for (const row of input.rows) {
    indexById.set(row.id, addRow(row, row.id, row.createdAt.getTime(), row.linkedId))
  }
  const parent = ids.map((_, index) => index)
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
    const link = links[index]
    return link === null || link === undefined ? undefined : indexById.get(link)
  }
  for (let index = 0; index < existingCount; index++) {
    const up = parentOf(index)
    if (up !== undefined) parent[find(index)] = find(up)
  }
  const components = new Map<number, { rows: number[]; leader: number }>()
  const byAge = [...ids.keys()].sort(compareAge)
  for (const index of byAge) {
    const root = find(index)
    const component = components.get(root)
    const isRoot = parentOf(index) === undefined
    if (component === undefined) components.set(root, { rows: [index], leader: index })
    else {
      component.rows.push(index)
      if (isRoot && parentOf(component.leader) !== undefined) component.leader = index
    }
  }
  for (const { rows, leader } of components.values()) {
    makeCustomer(rows, leader, [ids[leader] as number])
  }

  // The customers holding `key` when it may link: every row holding it is in the cluster.
  const customersHolding = (kind: IdentifierKind, key: string, into: Set<Customer>) => {
    for (const row of rowsOf(kind, key) ?? []) into.add(customerOf[row] as Customer)
  }
  const holds = (
    cluster: Set<Customer>,
    kind: IdentifierKind,
    key: string | null,
    read: boolean,
  ) => {
    if (key === null) return false
    if (read) return (rowsOf(kind, key)?.length ?? 0) > 0
    const tag = refText(kind, key)
    for (const customer of cluster) if (customer.blocked?.has(tag) === true) return true
    return false
  }
  // How many distinct keys of the other kind the rows holding `tag` have, with `extra`.
  const countPartners = (
    kind: IdentifierKind,
    key: string,
    extra: string | null,
    limit: number,
  ) => {
    const rows = rowsOf(kind, key) ?? []
    // Fewer rows than the limit cannot hold more partners than it.
    if (rows.length + 1 <= limit) return 0
    const other = kind === 'email' ? 'phoneKey' : 'emailKey'
    const partners = new Set<string>()
    if (extra !== null) partners.add(extra)
    for (const row of rows) {
      const key = (values[row] as KeyedIdentifiers)[other]
      if (key !== null) partners.add(key)
    }
    return partners.size
  }

  const merge = (cluster: Set<Customer>, survivor: Customer): Customer => {
    let into = survivor
    for (const customer of cluster) if (customer.rows.length > into.rows.length) into = customer
    for (const customer of cluster) {
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
    into.touched = true
    return into
  }

  // Quarantines a value as lib/guard/shell.ts `blockValue` does, reading what it reads.
  const quarantine = (ref: KeyRef, at: number) => {
    const tag = refText(ref.kind, ref.key)
    const touched = new Set<Customer>()
    customersHolding(ref.kind, ref.key, touched)
    const rows = [...touched].flatMap((customer) => customer.rows)
    const rowTags = new Set(rows.flatMap(tagsOf))
    rowTags.add(tag)
    const pairs = new Set<MatchKeys>()
    for (const rowTag of rowTags) for (const pair of pairsByKey.get(rowTag) ?? []) pairs.add(pair)
    const asRow = (row: number): ContactRow => {
      const customer = customerOf[row] as Customer
      const isPrimary = customer.primary === row
      return {
        ...(values[row] as KeyedIdentifiers),
        id: ids[row] as number,
        linkedId: isPrimary ? null : (ids[customer.primary] as number),
        linkPrecedence: isPrimary ? 'primary' : 'secondary',
        createdAt: new Date(created[row] as number),
      }
    }
    const regroup = planRegroup({
      rows: rows.map(asRow),
      pairs: [...pairs],
      // The guard knows the blocklist only for the keys of the rows it read.
      isBlocked: (other) => {
        const otherTag = refText(other.kind, other.key)
        return otherTag === tag || (rowTags.has(otherTag) && blocked.has(otherTag))
      },
      keepCustomers: false,
    })
    const when = new Date(at)
    const holders = new Set(rowsOf(ref.kind, ref.key) ?? [])
    for (const customer of touched) {
      const holding = customer.rows.filter((row) => holders.has(row))
      const primaryId = ids[customer.primary] as number
      events.push({
        kind: 'identifier_quarantined',
        primaryId,
        contactIds: [...new Set([primaryId, ...holding.map((row) => ids[row] as number)])],
        absorbedIds: [],
        joinedBy: ref.kind,
        evidence: null,
        at: when,
      })
    }
    for (const split of toSplitEvents(regroup, ref.kind)) events.push({ ...split, at: when })
    blocked.add(tag)
    quarantined.push({ ...ref, at: when })
    const indexOfId = new Map(rows.map((row) => [ids[row] as number, row]))
    const existingIds = new Set([...touched].flatMap((customer) => customer.existing))
    for (const part of regroup.customers) {
      const partRows = part.ids.map((id) => indexOfId.get(id) as number)
      const customer = makeCustomer(
        partRows,
        indexOfId.get(part.primaryId) as number,
        part.ids.filter((id) => existingIds.has(id)),
      )
      customer.touched = true
    }
  }

  const apply = (order: BackfillOrder) => {
    const linkEmail = order.emailKey !== null && !isBuiltIn('email', order.emailKey)
    const linkPhone = order.phoneKey !== null && !isBuiltIn('phoneNumber', order.phoneKey)
    if (!linkEmail && !linkPhone) {
      unlinkableLines.push(order.line)
      return
    }
    const quarantinedHere = new Set<string>()
    for (;;) {
      const readEmail = linkEmail && !isStoreBlocked('email', order.emailKey as string)
      const readPhone = linkPhone && !isStoreBlocked('phoneNumber', order.phoneKey as string)
      const cluster = new Set<Customer>()
      if (readEmail) customersHolding('email', order.emailKey as string, cluster)
      if (readPhone) customersHolding('phoneNumber', order.phoneKey as string, cluster)
      if (cluster.size === 0 && !readEmail && !readPhone) {
        unlinkableLines.push(order.line)
        return
      }
      const hasEmail = holds(cluster, 'email', order.emailKey, readEmail)
      const hasPhone = holds(cluster, 'phoneNumber', order.phoneKey, readPhone)
      const inserts =
        (order.emailKey !== null && !hasEmail) || (order.phoneKey !== null && !hasPhone)
      if (inserts) {
        const over: KeyRef[] = []
        const phoneTag = refText('phoneNumber', order.phoneKey as string)
        const emailTag = refText('email', order.emailKey as string)
        if (
          readPhone &&
          !quarantinedHere.has(phoneTag) &&
          countPartners(
            'phoneNumber',
            order.phoneKey as string,
            order.emailKey,
            limits.maxEmailsPerPhone,
          ) > limits.maxEmailsPerPhone
        ) {
          over.push({ kind: 'phoneNumber', key: order.phoneKey as string })
        }
        if (
          readEmail &&
          !quarantinedHere.has(emailTag) &&
          countPartners(
            'email',
            order.emailKey as string,
            order.phoneKey,
            limits.maxPhonesPerEmail,
          ) > limits.maxPhonesPerEmail
        ) {
          over.push({ kind: 'email', key: order.emailKey as string })
        }
        if (over.length > 0) {
          for (const ref of over) {
            quarantine(ref, order.at)
            quarantinedHere.add(refText(ref.kind, ref.key))
          }
          continue
        }
      }
      linkOrder(order, cluster, inserts, { hasEmail, hasPhone })
      return
    }
  }

  const linkOrder = (
    order: BackfillOrder,
    cluster: Set<Customer>,
    inserts: boolean,
    held: { hasEmail: boolean; hasPhone: boolean },
  ) => {
    // The order itself is the row's value (its line and time ride along): no copy per order.
    const { at } = order
    const identifiers: KeyedIdentifiers = order
    if (cluster.size === 0) {
      const row = addRow(identifiers, input.firstNewId + ids.length - existingCount, at, null)
      makeCustomer([row], row, []).touched = true
      return
    }
    const leaders = [...cluster].sort((a, b) => compareAge(a.primary, b.primary))
    const survivor = leaders[0] as Customer
    const primaryId = ids[survivor.primary] as number
    if (leaders.length > 1) {
      const absorbedIds = leaders.slice(1).map((customer) => ids[customer.primary] as number)
      for (const customer of leaders) for (const id of customer.existing) mergedExisting.add(id)
      events.push({
        kind: 'customers_merged',
        primaryId,
        contactIds: [primaryId, ...absorbedIds],
        absorbedIds,
        joinedBy: toJoinedBy(held),
        evidence: identifiers,
        at: new Date(at),
      })
      addPair(identifiers)
    }
    const customer = merge(cluster, survivor)
    if (!inserts) {
      if (leaders.length === 1) unchangedOrders++
      return
    }
    // Linking rule 4: a row never looks older than the customer it joins.
    const stamp = Math.max(at, customer.newest)
    const row = addRow(identifiers, input.firstNewId + ids.length - existingCount, stamp, null)
    customer.rows.push(row)
    customerOf[row] = customer
    customer.newest = stamp
    holdBlocked(customer, row)
  }

  const finish = (): BackfillPlan => {
    const customers: Customer[] = []
    const listed = new WeakSet<Customer>()
    for (const customer of customerOf) {
      if (listed.has(customer)) continue
      listed.add(customer)
      customers.push(customer)
    }
    const inserts: BackfillInsert[] = []
    const relinks: Relink[] = []
    let newCustomers = 0
    let largestMerged = 0
    const mergedCustomers = new Set<Customer>()
    for (const id of mergedExisting) {
      const row = indexById.get(id)
      if (row !== undefined) mergedCustomers.add(customerOf[row] as Customer)
    }
    for (const customer of mergedCustomers) {
      largestMerged = Math.max(largestMerged, customer.rows.length)
    }
    for (const customer of customers) {
      if (!customer.touched) continue
      const primaryId = ids[customer.primary] as number
      const linkOf = (row: number) => (row === customer.primary ? null : primaryId)
      const added: number[] = []
      let relinked = 0
      for (const row of customer.rows) {
        if (row >= existingCount) {
          added.push(row)
          inserts.push({
            ...(values[row] as KeyedIdentifiers),
            id: ids[row] as number,
            linkedId: linkOf(row),
            createdAt: new Date(created[row] as number),
          })
        } else if (links[row] !== linkOf(row)) {
          relinks.push({ id: ids[row] as number, linkedId: linkOf(row) })
          relinked++
        }
      }
      const addedIds = added.sort(compareAge).map((row) => ids[row] as number)
      const summary = (kind: BackfillEvent['kind'], contactIds: number[]) =>
        events.push({
          kind,
          primaryId,
          contactIds,
          absorbedIds: [],
          joinedBy: null,
          evidence: null,
          at: input.now,
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
    inserts.sort((a, b) => a.id - b.id)
    return {
      inserts,
      relinks,
      quarantined,
      events,
      unlinkableLines,
      summary: {
        newCustomers,
        mergedExisting: mergedExisting.size,
        largestMerged,
        unchangedOrders,
      },
    }
  }

  return { apply, finish }
}

function toJoinedBy({
  hasEmail,
  hasPhone,
}: {
  hasEmail: boolean
  hasPhone: boolean
}): JoinedBy | null {
  if (hasEmail && hasPhone) return 'both'
  if (hasEmail) return 'email'
  return hasPhone ? 'phoneNumber' : null
}
