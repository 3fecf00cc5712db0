/**
 * The guard's statements: reading the customers a value touches with what regroups them (their
 * blocked keys, the request pairs the ledger recorded), and the write that rewrites them at once,
 * under the same locks and checks as identify's (README, Decisions: "Concurrency protocol").
 */
import { type SQL, sql } from 'drizzle-orm'
import type { KeyRef } from '../core/blocklist.js'
import type { ContactRow, MatchKeys } from '../core/contact.js'
import { findLeaders, toClusterVersion } from '../core/linking.js'
import type { Relink } from '../core/regroup.js'
import {
  type BatchStatement,
  type Database,
  type Db,
  selectRows,
  toSqlArray,
} from '../db/database.js'
import { toLockClusterQuery } from '../identify/cluster-locks.js'
import { type ClusterAnchor, clusterVersionQuery, selectCluster } from '../identify/cluster-read.js'

/** The customers a guard operation touches, as read, and the evidence that regroups them. */
export type Affected = {
  rows: ContactRow[]
  /** Keys of the rows (and of the anchor) on the store's blocklist, as `kind:key`. */
  blocked: Set<string>
  /** Request pairs the ledger recorded for the rows' keys. */
  pairs: RecordedPair[]
  /** What the write checks, under its locks, before it changes anything. */
  guard: { anchor: ClusterAnchor; anchorKeys: MatchKeys; version: string; blockedText: string }
}

/** A request pair the ledger recorded: its keys, its values as sent, and when. */
export type RecordedPair = {
  emailKey: string
  phoneKey: string
  email: string
  phoneNumber: string
  at: Date
}

/** `kind:key`, as `Affected.blocked` names a key. */
export const toRefText = ({ kind, key }: KeyRef) => `${kind}:${key}`

// The store's blocklist entries among `keys`, as sorted `kind:key` text: what the write checks.
const blockedAmongQuery = (emailKeys: string[], phoneKeys: string[]): SQL =>
  sql`select coalesce(string_agg("kind" || ':' || "key", ',' order by "kind", "key"), '')
      from "BlockedIdentifier"
      where ("kind" = 'email' and "key" = any(${toSqlArray(emailKeys, 'text')}))
         or ("kind" = 'phoneNumber' and "key" = any(${toSqlArray(phoneKeys, 'text')}))`

/**
 * Reads the customers `anchor` touches, their blocked keys and their recorded pairs; `known`
 * rows, read already, are taken instead of reading the customers again.
 */
export async function readAffected(
  database: Database,
  anchor: ClusterAnchor,
  anchorKeys: MatchKeys,
  known?: readonly ContactRow[],
): Promise<Affected> {
  const rows =
    known === undefined ? await database.runRead((db) => selectCluster(db, anchor)) : [...known]
  const emailKeys = distinct([anchorKeys.emailKey, ...rows.map((row) => row.emailKey)])
  const phoneKeys = distinct([anchorKeys.phoneKey, ...rows.map((row) => row.phoneKey)])
  // One statement: the blocked keys, and the pairs, each side found by its partial index; a pair
  // needs both sides to join anything.
  const [evidence] = await database.runRead((db) =>
    selectRows<{ blockedText: string; pairs: (Omit<RecordedPair, 'at'> & { at: string })[] }>(
      db,
      sql`select (${blockedAmongQuery(emailKeys, phoneKeys)}) as "blockedText",
            coalesce((
              select json_agg(json_build_object(
                'emailKey', "evidenceEmailKey", 'phoneKey', "evidencePhoneKey",
                'email', "evidenceEmail", 'phoneNumber', "evidencePhoneNumber", 'at', "createdAt"
              ) order by "id")
              from "ContactEvent"
              where ("evidenceEmailKey" = any(${toSqlArray(emailKeys, 'text')})
                  or "evidencePhoneKey" = any(${toSqlArray(phoneKeys, 'text')}))
                and "evidenceEmailKey" is not null and "evidencePhoneKey" is not null
            ), '[]'::json) as "pairs"`,
    ),
  )
  const blockedText = evidence?.blockedText ?? ''
  const pairs = evidence?.pairs ?? []
  return {
    rows,
    blocked: new Set(blockedText === '' ? [] : blockedText.split(',')),
    pairs: pairs.map((pair) => ({ ...pair, at: new Date(pair.at) })),
    guard: { anchor, anchorKeys, version: toClusterVersion(rows), blockedText },
  }
}

// The rows' keys, as the database states them, for the write to compare with what it read: an
// erasure of another value of theirs changes no link, but takes away evidence a regroup counted.
// Keys hold no control characters (lib/core/email-address.ts; phone keys are digits).
const rowKeysQuery = (ids: readonly number[]): SQL =>
  sql`select coalesce(string_agg("id" || E'\t' || coalesce("emailKey", '') || E'\t' || coalesce("phoneKey", ''),
        E'\n' order by "id"), '')
      from "Contact" where "id" = any(${toSqlArray(ids, 'integer')}) and "deletedAt" is null`

const toRowKeysText = (rows: readonly ContactRow[]) =>
  [...rows]
    .sort((a, b) => a.id - b.id)
    .map((row) => `${row.id}\t${row.emailKey ?? ''}\t${row.phoneKey ?? ''}`)
    .join('\n')

/**
 * Returns the statements that lock what `affected` read and check, under the locks, that neither
 * its rows' links, their keys nor their blocked keys changed since (else 40001, and the caller
 * reads again).
 */
export function buildGuardChecks(db: Db, affected: Affected): BatchStatement[] {
  const { anchor, anchorKeys, version, blockedText } = affected.guard
  const emailKeys = distinct([anchorKeys.emailKey, ...affected.rows.map((row) => row.emailKey)])
  const phoneKeys = distinct([anchorKeys.phoneKey, ...affected.rows.map((row) => row.phoneKey)])
  const leaderIds = findLeaders(affected.rows).map((row) => row.id)
  return [
    db.execute(toLockClusterQuery({ keys: anchorKeys, leaderIds })),
    db.execute(
      sql`select contact_assert_cluster_version(${version}, (${clusterVersionQuery(anchor)}))`,
    ),
    db.execute(
      sql`select contact_assert_cluster_version(${blockedText}, (${blockedAmongQuery(emailKeys, phoneKeys)}))`,
    ),
    db.execute(
      sql`select contact_assert_cluster_version(${toRowKeysText(affected.rows)}, (${rowKeysQuery(affected.rows.map((row) => row.id))}))`,
    ),
  ]
}

/** Returns the statement that gives each row of `relinks` its new link, or null for none. */
export function buildRelinks(db: Db, relinks: readonly Relink[], now: Date): BatchStatement | null {
  if (relinks.length === 0) return null
  const ids = toSqlArray(
    relinks.map((relink) => relink.id),
    'integer',
  )
  // A link of 0 stands for none: an integer array parameter carries no nulls on every driver.
  const links = toSqlArray(
    relinks.map((relink) => relink.linkedId ?? 0),
    'integer',
  )
  return db.execute(sql`
    update "Contact" as "row"
    set "linkedId" = nullif("new"."link", 0),
        "linkPrecedence" = (case when "new"."link" = 0 then 'primary' else 'secondary' end)::"LinkPrecedence",
        "updatedAt" = ${now}
    from unnest(${ids}, ${links}) as "new"("id", "link")
    where "row"."id" = "new"."id"`)
}

function distinct(values: readonly (string | null)[]): string[] {
  return [...new Set(values.filter((value): value is string => value !== null))]
}
