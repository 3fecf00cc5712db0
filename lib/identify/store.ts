/**
 * Reads and rewrites customer clusters in the `Contact` table, with the statements the write
 * protocol needs (README, Decisions: "Concurrency protocol").
 */
import { asc, eq, type SQL, type SQLWrapper, sql } from 'drizzle-orm'
import type { Identifiers } from '../core/contact.js'
import { toLedgerEvents } from '../core/ledger.js'
import type { LinkPlan } from '../core/linking.js'
import {
  type BatchStatement,
  type Database,
  type Db,
  runInOrder,
  selectRows,
  toSqlArray,
} from '../db/database.js'
import { contact } from '../db/schema.js'
import { buildRecordEvents } from '../ledger/record.js'
import { findMissingLocks, toLockClusterQuery, toTryLockClusterQuery } from './cluster-locks.js'
import { createLargeReadGate } from './large-reads.js'
import type { ContactStore } from './shell.js'

// Either identifier may be a value or a placeholder filled when a prepared statement runs; a
// null compares unknown, so one statement serves email-only, phone-only and both.
export type IdentifierParams = {
  email: string | null | SQLWrapper
  phoneNumber: string | null | SQLWrapper
}

// The ids of every live row in the customers that the identifiers touch: the rows holding either
// identifier, their ancestors up to the root, and every descendant of those, possibly repeated.
// Chains and cycles left by older writers are followed to their end.
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
function clusterIdsQuery({ email, phoneNumber }: IdentifierParams): SQL {
  return sql`
    with recursive
      ancestors as (
        select "id", "linkedId" from "Contact"
        where "deletedAt" is null and ("email" = ${email} or "phoneNumber" = ${phoneNumber})
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
const clusterMemberCondition = (params: IdentifierParams) =>
  sql`${contact.id} = any(array(${clusterIdsQuery(params)}))`

/** The SQL twin of `toClusterVersion` in lib/core/linking.ts: the same text for the same rows. */
function clusterVersionQuery(identifiers: Identifiers): SQL {
  return sql`
    select coalesce(string_agg("id" || ':' || coalesce("linkedId"::text, ''), ',' order by "id"), '')
    from "Contact" where ${clusterMemberCondition(identifiers)}`
}

/**
 * Returns a store over `database` that reads and writes with the statements above. The read is
 * prepared: node-postgres parses and plans it once per connection, not per request. Reads of
 * large customers run one at a time (./large-reads.ts).
 */
export function createContactStore(database: Database): ContactStore {
  const gateLargeRead = createLargeReadGate()
  const store: ContactStore = {
    // Through runRead, which turns JIT off at no round trip's cost (lib/db/database.ts).
    readCluster: ({ email, phoneNumber }) =>
      gateLargeRead({ email, phoneNumber }, () =>
        database.runRead((db) => toPreparedRead(db).execute({ email, phoneNumber })),
      ),
    writePlan: async (plan, identifiers, requestId) =>
      toInsertedId(
        plan,
        await database.runBatch((db) => buildWrites(db, plan, identifiers, requestId)),
      ),
  }
  const { runTransaction } = database
  if (runTransaction === undefined) return store
  return {
    ...store,
    whileLocked: (identifiers, leaderIds, work) =>
      runTransaction(async (tx) => {
        await tx.execute(toLockClusterQuery({ identifiers, leaderIds }))
        return work(createLockedStore(tx, identifiers, leaderIds))
      }),
  }
}

// The store a locked retry works with: reads and writes in transaction `tx`, which holds the
// locks of `identifiers` and `leaderIds`.
function createLockedStore(
  tx: Db,
  identifiers: Identifiers,
  leaderIds: readonly number[],
): ContactStore {
  // The same name and text as the pooled read, so a connection reuses its parsed statement.
  const lockedRead = prepareReadCluster(tx)
  return {
    readCluster: ({ email, phoneNumber }) => lockedRead.execute({ email, phoneNumber }),
    // A lock the plan needs beyond those held (a leader that joined since) is out of the global
    // order: waiting for it could deadlock with a writer holding it and waiting for ours. So it is
    // taken only if free; if not, the caller retries and locks the plan's leaders, in order,
    // first. The write's own lock statement then re-takes held locks only (advisory locks nest).
    async writePlan(plan, writeIdentifiers, requestId) {
      const missing = findMissingLocks(
        { identifiers, leaderIds },
        { identifiers: writeIdentifiers, leaderIds: plan.rootIds },
      )
      if (missing.keys.length + missing.leaderIds.length > 0) {
        const rows = await selectRows<{ isTaken: boolean }>(tx, toTryLockClusterQuery(missing))
        if (rows[0]?.isTaken !== true) throw new ClusterChangedError()
      }
      return toInsertedId(
        plan,
        await runInOrder(buildWrites(tx, plan, writeIdentifiers, requestId)),
      )
    },
  }
}

/**
 * A locked write found its customer led by a row whose lock another writer holds. It carries
 * SQLSTATE 40001, as the database's own version check does, so the shell retries it the same way.
 */
export class ClusterChangedError extends Error {
  readonly code = '40001'
  constructor() {
    super('Contact cluster gained a leader after its locks were taken')
    this.name = 'ClusterChangedError'
  }
}

// The read prepared on each handle runRead gives (one per pooled connection): building its SQL
// costs tens of microseconds, a tenth of a warm read.
const preparedReads = new WeakMap<Db, ReturnType<typeof prepareReadCluster>>()
function toPreparedRead(db: Db) {
  let prepared = preparedReads.get(db)
  if (prepared === undefined) {
    prepared = prepareReadCluster(db)
    preparedReads.set(db, prepared)
  }
  return prepared
}

function prepareReadCluster(db: Db) {
  return selectCluster(db, {
    email: sql.placeholder('email'),
    phoneNumber: sql.placeholder('phoneNumber'),
  }).prepare('contact_read_cluster')
}

/**
 * Returns the query of the live rows of every customer the identifiers touch, oldest first, as
 * identify reads them; either identifier may be a value, a placeholder or a scalar subquery.
 */
export function selectCluster(db: Db, identifiers: IdentifierParams) {
  return db
    .select({
      id: contact.id,
      email: contact.email,
      phoneNumber: contact.phoneNumber,
      linkedId: contact.linkedId,
      linkPrecedence: contact.linkPrecedence,
      createdAt: contact.createdAt,
    })
    .from(contact)
    .where(clusterMemberCondition(identifiers))
    .orderBy(asc(contact.createdAt), asc(contact.id))
}

// The insert, when there is one, is the batch's last statement but the ledger's.
function toInsertedId(plan: LinkPlan, results: unknown[]): number | null {
  if (plan.insert === null) return null
  return (results.at(-2) as { id: number }[])[0]?.id ?? null
}

function buildWrites(
  db: Db,
  plan: LinkPlan,
  identifiers: Identifiers,
  requestId: string | null,
): BatchStatement[] {
  const statements: BatchStatement[] = [
    // Locks first, the check in the next statement: at READ COMMITTED a statement sees what was
    // committed before it started, so only a later statement sees what committed during the wait.
    db.execute(toLockClusterQuery({ identifiers, leaderIds: plan.rootIds })),
    db.execute(
      sql`select contact_assert_cluster_version(${plan.version}, (${clusterVersionQuery(identifiers)}))`,
    ),
  ]
  if (plan.promotesPrimary && plan.primaryId !== null) {
    statements.push(
      db
        .update(contact)
        .set({ linkedId: null, linkPrecedence: 'primary', updatedAt: plan.now })
        .where(eq(contact.id, plan.primaryId)),
    )
  }
  if (plan.relinkIds.length > 0 && plan.primaryId !== null) {
    statements.push(
      db
        .update(contact)
        .set({ linkedId: plan.primaryId, linkPrecedence: 'secondary', updatedAt: plan.now })
        .where(sql`${contact.id} = any(${toSqlArray(plan.relinkIds, 'integer')})`),
    )
  }
  if (plan.insert !== null) {
    statements.push(
      db
        .insert(contact)
        .values({ ...plan.insert, updatedAt: plan.insert.createdAt })
        .returning({ id: contact.id }),
    )
  }
  // Last, so that it can name the row just inserted: a change and its record commit together.
  const record = buildRecordEvents(db, toLedgerEvents(plan, identifiers), {
    at: plan.now,
    requestId,
  })
  if (record !== null) statements.push(record)
  return statements
}
