/**
 * The linking rules, applied to one customer cluster already read from the database. Pure: no
 * I/O, no clock, no randomness; the caller supplies the rows, the request and the current time.
 *
 * 1. A cluster is every live row sharing the match key (lib/guard/match-keys.ts) of the request's
 *    email or phone number, unless the value is blocked, plus every row of those rows' customers
 *    (the shell reads it; see lib/identify/store.ts).
 * 2. An empty cluster means a new customer: insert a primary row with the request's identifiers.
 * 3. Each linked component of the cluster (rows joined by `linkedId`) has one leader: its root, the
 *    row with no live parent in the cluster, or, for a cycle left by older services, its oldest
 *    row. The oldest leader (by `createdAt`, then `id`) survives as the primary; every other row
 *    becomes a secondary pointing straight at it. Only rows whose link actually changes are
 *    written, and they alone get a new `updatedAt`.
 * 4. If the request brings an email or phone number whose key the merged customer does not have
 *    yet, insert one secondary row with the request's identifiers, linked to the primary; otherwise
 *    insert nothing. A blocked value counts too: it is stored, it only never links.
 * 5. Chains left by older services (a secondary pointing at a secondary) and cycles are flattened
 *    by rule 3, because every row is re-pointed at the survivor directly. A secondary whose
 *    primary was deleted is a root of its own, so it leads its rows until something joins them.
 * 6. The answer lists distinct emails and phone numbers, the primary's first and the rest in row
 *    order (`createdAt`, `id`), and every secondary id in row order.
 */
import type { ContactRow, IdentifyResponse, KeyedIdentifiers } from './contact.js'

/** A row to insert: everything but the id, which the database assigns. */
export type NewContact = Omit<ContactRow, 'id'>

/** What to write for one request, and what the cluster looked like when it was read. */
export type LinkPlan = {
  /** The primary after the writes, or null when the inserted row is the new primary. */
  primaryId: number | null
  /** Rows to re-point at `primaryId` as secondaries. */
  relinkIds: number[]
  /** Whether `primaryId` itself must be made primary (it was a secondary left without one). */
  promotesPrimary: boolean
  insert: NewContact | null
  /** The time to stamp on every row written. */
  now: Date
  /**
   * The leaders of the cluster as read (rule 3): the writer locks them, so two writers whose
   * clusters overlap always share a lock (README, "Concurrency protocol").
   */
  rootIds: number[]
  /** The cluster's version as read; see `toClusterVersion`. */
  version: string
  /** The existing rows as they will be after the writes, in row order. */
  rows: ContactRow[]
}

// Orders rows oldest first: by `createdAt`, then `id`.
function compareRowAge(a: ContactRow, b: ContactRow): number {
  return a.createdAt.getTime() - b.createdAt.getTime() || a.id - b.id
}

/**
 * Returns the text the database compares, under lock, against the cluster it is about to rewrite:
 * every row's `id:linkedId`, ordered by id. Mirrored in SQL by `clusterVersionQuery` in lib/identify/store.ts.
 */
export function toClusterVersion(rows: readonly ContactRow[]): string {
  return [...rows]
    .sort((a, b) => a.id - b.id)
    .map((row) => `${row.id}:${row.linkedId ?? ''}`)
    .join(',')
}

/**
 * Returns the leader of every linked component of `rows` (rule 3), oldest first. Whoever reads
 * any row of a component reads all of it (its ancestors, then all their descendants), so every
 * reader agrees on its leader.
 */
export function findLeaders(rows: readonly ContactRow[]): ContactRow[] {
  const byId = new Map(rows.map((row) => [row.id, row]))
  const isRoot = (row: ContactRow) => row.linkedId === null || !byId.has(row.linkedId)
  // Union-find over links inside the cluster; each component has at most one root, because each
  // row has at most one parent, and a component without one contains exactly one cycle.
  const parent = new Map(rows.map((row) => [row.id, row.id]))
  const find = (id: number): number => {
    const up = parent.get(id) ?? id
    if (up === id) return id
    const top = find(up)
    parent.set(id, top)
    return top
  }
  for (const row of rows) {
    if (!isRoot(row) && row.linkedId !== null) parent.set(find(row.id), find(row.linkedId))
  }
  const leaders = new Map<number, ContactRow>()
  for (const row of [...rows].sort(compareRowAge)) {
    const component = find(row.id)
    const leader = leaders.get(component)
    if (leader === undefined || (isRoot(row) && !isRoot(leader))) leaders.set(component, row)
  }
  return [...leaders.values()].sort(compareRowAge)
}

/** Decides the writes for `request` against its `cluster` at time `now` (rules 2 to 5). */
export function planLinks(
  cluster: readonly ContactRow[],
  request: KeyedIdentifiers,
  now: Date,
): LinkPlan {
  const rows = [...cluster].sort(compareRowAge)
  const version = toClusterVersion(rows)
  const leaders = findLeaders(rows)
  const survivor = leaders[0]
  if (survivor === undefined) {
    return {
      primaryId: null,
      relinkIds: [],
      promotesPrimary: false,
      insert: { ...request, linkedId: null, linkPrecedence: 'primary', createdAt: now },
      now,
      rootIds: [],
      version,
      rows: [],
    }
  }

  const relinkIds: number[] = []
  const settled = rows.map((row): ContactRow => {
    if (row === survivor) return { ...row, linkedId: null, linkPrecedence: 'primary' }
    if (row.linkedId !== survivor.id || row.linkPrecedence !== 'secondary') relinkIds.push(row.id)
    return { ...row, linkedId: survivor.id, linkPrecedence: 'secondary' }
  })

  const isNew = (key: string | null, column: 'emailKey' | 'phoneKey') =>
    key !== null && !rows.some((row) => row[column] === key)
  const bringsSomethingNew =
    isNew(request.emailKey, 'emailKey') || isNew(request.phoneKey, 'phoneKey')
  // Clocks of different instances may disagree by a few milliseconds; a new row must still never
  // look older than the customer it joins.
  const newest = rows.reduce((time, row) => Math.max(time, row.createdAt.getTime()), 0)
  const createdAt = newest > now.getTime() ? new Date(newest) : now

  return {
    primaryId: survivor.id,
    relinkIds,
    promotesPrimary: survivor.linkedId !== null || survivor.linkPrecedence !== 'primary',
    insert: bringsSomethingNew
      ? { ...request, linkedId: survivor.id, linkPrecedence: 'secondary', createdAt }
      : null,
    now,
    rootIds: leaders.map((row) => row.id),
    version,
    rows: settled,
  }
}

/** Whether carrying out `plan` changes the database at all. */
export function hasWrites(plan: LinkPlan): boolean {
  return plan.insert !== null || plan.relinkIds.length > 0 || plan.promotesPrimary
}

/** Returns the customer after `plan` was written, given the id the database gave its insert. */
export function toIdentifyResponse(plan: LinkPlan, insertedId: number | null): IdentifyResponse {
  const rows =
    plan.insert === null || insertedId === null
      ? plan.rows
      : [...plan.rows, { ...plan.insert, id: insertedId }].sort(compareRowAge)
  const primary = rows.find((row) => row.linkPrecedence === 'primary')
  if (primary === undefined) throw new Error('Invariant broken: a planned customer has no primary')

  const inPrimaryFirstOrder = [primary, ...rows.filter((row) => row !== primary)]
  const distinct = (values: (string | null)[]) => [
    ...new Set(values.filter((value): value is string => value !== null)),
  ]
  return {
    contact: {
      primaryContactId: primary.id,
      emails: distinct(inPrimaryFirstOrder.map((row) => row.email)),
      phoneNumbers: distinct(inPrimaryFirstOrder.map((row) => row.phoneNumber)),
      secondaryContactIds: rows.filter((row) => row !== primary).map((row) => row.id),
    },
  }
}
