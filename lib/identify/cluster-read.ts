/**
 * Reading a customer's cluster: the one recursive query identify, the lookup and explain share,
 * and its version for the write protocol's check (docs/decisions/002-concurrency-protocol.md).
 */
import { asc, type SQL, type SQLWrapper, sql } from 'drizzle-orm'
import type { Db } from '../db/database.js'
import { contact } from '../db/schema.js'

// Either key may be a value or a placeholder filled when a prepared statement runs; a null
// compares unknown, so one statement serves email-only, phone-only and both.
export type KeyParams = {
  emailKey: string | null | SQLWrapper
  phoneKey: string | null | SQLWrapper
}

/**
 * Where a cluster starts: the live rows it is read from. Identify's anchor holds the request's
 * keys that are not on the store's blocklist (`throughUnblocked`); the guard reads through a key
 * whatever its state, or from a contact id.
 */
export type ClusterAnchor = SQL

// `key`, or null when the blocklist holds it: a blocked value never links anything, and the same
// statement that reads the cluster decides it, so no write can slip between the two.
const unblocked = (kind: 'email' | 'phoneNumber', key: string | null | SQLWrapper) =>
  sql`(select "k" from (select ${key}::text as "k") as "request"
    where not exists (select from "BlockedIdentifier" where "kind" = ${kind} and "key" = "request"."k"))`

/** The rows holding either key unless it is blocked: identify's anchor. */
export const throughUnblocked = ({ emailKey, phoneKey }: KeyParams): ClusterAnchor =>
  sql`("emailKey" = ${unblocked('email', emailKey)} or "phoneKey" = ${unblocked('phoneNumber', phoneKey)})`

/** The rows holding either key, blocked or not: the guard's anchor. */
export const throughKeys = ({ emailKey, phoneKey }: KeyParams): ClusterAnchor =>
  sql`("emailKey" = ${emailKey} or "phoneKey" = ${phoneKey})`

/** The row with this id: the anchor of a customer named by a contact. */
export const throughContact = (contactId: number | SQLWrapper): ClusterAnchor =>
  sql`("id" = ${contactId})`

// The ids of every live row in the customers the anchor touches: its rows, their ancestors up to
// the root, and every descendant of those, possibly repeated. Chains and cycles left by older
// writers are followed to their end.
//
// Two things keep a read's cost independent of the table's size, because the planner estimates a
// recursive CTE at ten times the rows of the step before, compounded, and sizes plans by that:
// - Each recursive step probes an index once per row it reached, through a lateral subquery behind
//   `offset 0`, which the planner may not flatten into a join. As a join, it could merge-join the
//   work table against a whole index.
// - `members` walks down with `union all`, its `cycle` clause stopping at a row already on the path,
//   and the final array drops repeats. A `union` builds a hash table sized by the estimate, up to
//   work_mem: at a million rows, allocating it was most of a read's cost. `ancestors`, estimated
//   small, keeps `union`, so `members` starts from each row once.
function clusterIdsQuery(anchor: ClusterAnchor): SQL {
  return sql`
    with recursive
      ancestors as (
        select "id", "linkedId" from "Contact"
        where "deletedAt" is null and ${anchor}
        union
        select parent."id", parent."linkedId" from ancestors
        cross join lateral (
          select "id", "linkedId" from "Contact"
          where "id" = ancestors."linkedId" and "deletedAt" is null offset 0
        ) parent
      ),
      members as (
        select "id" from ancestors
        union all
        select child."id" from members
        cross join lateral (
          select "id" from "Contact"
          where "linkedId" = members."id" and "deletedAt" is null offset 0
        ) child
      ) cycle "id" set "isCycle" using "path"
    select "id" from members`
}

// `= any(array(...))`, not `in (...)`, for the same reason: joined, the overestimated cluster was
// merge-joined against the whole primary key (over 100 ms at a million rows). An array leaves one
// plan: a primary-key probe per distinct cluster row.
const clusterMemberCondition = (anchor: ClusterAnchor) =>
  sql`${contact.id} = any(array(${clusterIdsQuery(anchor)}))`

/** The SQL twin of `toClusterVersion` in lib/core/linking.ts: the same text for the same rows. */
export function clusterVersionQuery(anchor: ClusterAnchor): SQL {
  return sql`
    select coalesce(string_agg("id" || ':' || coalesce("linkedId"::text, ''), ',' order by "id"), '')
    from "Contact" where ${clusterMemberCondition(anchor)}`
}

// The read prepared on each handle runRead gives (one per pooled connection): building its SQL
// costs tens of microseconds, a tenth of a warm read.
const preparedReads = new WeakMap<Db, ReturnType<typeof prepareReadCluster>>()
/** Returns identify's cluster read, prepared on `db` once and kept for it. */
export function toPreparedRead(db: Db) {
  let prepared = preparedReads.get(db)
  if (prepared === undefined) {
    prepared = prepareReadCluster(db)
    preparedReads.set(db, prepared)
  }
  return prepared
}

function prepareReadCluster(db: Db) {
  return selectCluster(
    db,
    throughUnblocked({
      emailKey: sql.placeholder('emailKey'),
      phoneKey: sql.placeholder('phoneKey'),
    }),
  ).prepare('contact_read_cluster')
}

/** Returns the query of the live rows of every customer `anchor` touches, oldest first. */
export function selectCluster(db: Db, anchor: ClusterAnchor) {
  return db
    .select({
      id: contact.id,
      email: contact.email,
      phoneNumber: contact.phoneNumber,
      emailKey: contact.emailKey,
      phoneKey: contact.phoneKey,
      linkedId: contact.linkedId,
      linkPrecedence: contact.linkPrecedence,
      createdAt: contact.createdAt,
    })
    .from(contact)
    .where(clusterMemberCondition(anchor))
    .orderBy(asc(contact.createdAt), asc(contact.id))
}
