// Checks the whole Contact table against the linking invariants, and against the customers a
// union-find over every request sent says there should be.
import { findBuiltInRule } from '../lib/core/blocklist.js'
import { createUnionFind, type ModelRequest } from './union-find.js'

/** A Contact row as read back for inspection. */
export type StoredContact = {
  id: number
  email: string | null
  phoneNumber: string | null
  emailKey: string | null
  phoneKey: string | null
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
    `select "id", "email", "phoneNumber", "emailKey", "phoneKey", "linkedId", "linkPrecedence", "createdAt", "updatedAt", "deletedAt" from "Contact" order by "id"`,
  )
  // PGlite and node-postgres both return timestamptz as Date; normalise anyway for comparisons.
  return rows.map((row) => ({
    ...row,
    createdAt: new Date(row.createdAt),
    updatedAt: new Date(row.updatedAt),
    deletedAt: row.deletedAt === null ? null : new Date(row.deletedAt),
  }))
}

// The keys of a row that link: blocked ones (built-in, or in `blocked` as `email:key` /
// `phone:key`) hold nothing together, so they may sit in several customers.
function toLinkingKeys(row: StoredContact, blocked: ReadonlySet<string>): string[] {
  const keys: string[] = []
  if (row.emailKey !== null && findBuiltInRule({ kind: 'email', key: row.emailKey }) === null) {
    keys.push(`email:${row.emailKey}`)
  }
  if (
    row.phoneKey !== null &&
    findBuiltInRule({ kind: 'phoneNumber', key: row.phoneKey }) === null
  ) {
    keys.push(`phone:${row.phoneKey}`)
  }
  return keys.filter((key) => !blocked.has(key))
}

/**
 * Returns every violation of the linking invariants in `rows` (live rows only): one primary per
 * customer, the oldest, secondaries pointing straight at it, and no unblocked key in two customers.
 */
export function findViolations(
  rows: StoredContact[],
  blocked: ReadonlySet<string> = new Set(),
): string[] {
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
    for (const key of toLinkingKeys(row, blocked)) {
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
export function connectCustomers(requests: ModelRequest[]): string[][] {
  const customers = createUnionFind()
  for (const request of requests) customers.add(request)
  return toSortedGroups(
    customers
      .components()
      .flatMap((keys, index) => keys.map((key): [string, string] => [String(index), key])),
  )
}

/** Groups the linking keys of the table's live rows by customer, in the same form. */
export function groupCustomers(
  rows: StoredContact[],
  blocked: ReadonlySet<string> = new Set(),
): string[][] {
  const pairs: [string, string][] = []
  for (const row of rows.filter((candidate) => candidate.deletedAt === null)) {
    const customer = String(row.linkedId ?? row.id)
    for (const key of toLinkingKeys(row, blocked)) pairs.push([customer, key])
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
