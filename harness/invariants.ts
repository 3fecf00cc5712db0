// Checks the whole Contact table against the linking invariants, and against the customers a
// union-find over every request sent says there should be.
import type { Identifiers } from '../lib/core/contact.js'
import { createUnionFind } from './union-find.js'

/** A Contact row as read back for inspection. */
export type StoredContact = {
  id: number
  email: string | null
  phoneNumber: string | null
  linkedId: number | null
  linkPrecedence: 'primary' | 'secondary'
  createdAt: Date
  updatedAt: Date
  deletedAt: Date | null
}

/** Anything that runs SQL text on the table and returns its rows (a test database, say). */
export type RowReader = { query: <T>(text: string) => Promise<T[]> }

/** Reads every row, by id. */
export async function readAllContacts(database: RowReader): Promise<StoredContact[]> {
  const rows = await database.query<StoredContact>(
    `select "id", "email", "phoneNumber", "linkedId", "linkPrecedence", "createdAt", "updatedAt", "deletedAt" from "Contact" order by "id"`,
  )
  // PGlite and node-postgres both return timestamptz as Date; normalise anyway for comparisons.
  return rows.map((row) => ({
    ...row,
    createdAt: new Date(row.createdAt),
    updatedAt: new Date(row.updatedAt),
    deletedAt: row.deletedAt === null ? null : new Date(row.deletedAt),
  }))
}

/** Returns every violation of the linking invariants in `rows` (live rows only). */
export function findViolations(rows: StoredContact[]): string[] {
  const live = rows.filter((row) => row.deletedAt === null)
  const byId = new Map(live.map((row) => [row.id, row]))
  const violations: string[] = []
  const owner = new Map<string, number>()
  for (const row of live) {
    const primary = row.linkedId === null ? row : byId.get(row.linkedId)
    if ((row.linkPrecedence === 'primary') !== (row.linkedId === null)) {
      violations.push(`row ${row.id}: linkPrecedence disagrees with linkedId`)
    }
    if (primary === undefined || primary.linkedId !== null) {
      violations.push(`row ${row.id}: does not point straight at a live primary`)
      continue
    }
    const isOlder =
      primary.createdAt < row.createdAt ||
      (+primary.createdAt === +row.createdAt && primary.id <= row.id)
    if (!isOlder) violations.push(`row ${row.id}: older than its primary ${primary.id}`)
    for (const key of [`email:${row.email}`, `phone:${row.phoneNumber}`]) {
      if (key.endsWith(':null')) continue
      const seen = owner.get(key)
      if (seen !== undefined && seen !== primary.id) {
        violations.push(
          `${key.split(':')[0]} of row ${row.id} is in customers ${seen} and ${primary.id}`,
        )
      }
      owner.set(key, primary.id)
    }
  }
  return violations
}

/** Groups the identifiers of all `requests` into connected components (union-find). */
export function connectCustomers(requests: Identifiers[]): string[][] {
  const customers = createUnionFind()
  for (const request of requests) customers.add(request)
  return toSortedGroups(
    customers
      .components()
      .flatMap((keys, index) => keys.map((key): [string, string] => [String(index), key])),
  )
}

/** Groups the identifiers of the table's live rows by customer, in the same form. */
export function groupCustomers(rows: StoredContact[]): string[][] {
  const pairs: [string, string][] = []
  for (const row of rows.filter((candidate) => candidate.deletedAt === null)) {
    const customer = String(row.linkedId ?? row.id)
    if (row.email !== null) pairs.push([customer, `email:${row.email}`])
    if (row.phoneNumber !== null) pairs.push([customer, `phone:${row.phoneNumber}`])
  }
  return toSortedGroups(pairs)
}

function toSortedGroups(pairs: [string, string][]): string[][] {
  const groups = new Map<string, Set<string>>()
  for (const [group, key] of pairs) groups.set(group, (groups.get(group) ?? new Set()).add(key))
  return [...groups.values()]
    .map((keys) => [...keys].sort())
    .sort((a, b) => (a[0] ?? '').localeCompare(b[0] ?? ''))
}
