/**
 * Reads and rewrites customer clusters in the `Contact` table, with the statements the write
 * protocol needs (README, Decisions: "Concurrency protocol").
 */
import { eq, sql } from 'drizzle-orm'
import type { KeyedIdentifiers, MatchKeys } from '../core/contact.js'
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
import { DEFAULT_MATCH_KEYS, toKeyVersion } from '../guard/match-keys.js'
import { buildRecordEvents } from '../ledger/record.js'
import { findMissingLocks, toLockClusterQuery, toTryLockClusterQuery } from './cluster-locks.js'
import { clusterVersionQuery, throughUnblocked, toPreparedRead } from './cluster-read.js'
import { createLargeReadGate } from './large-reads.js'
import type { ContactStore } from './shell.js'

/**
 * Returns a store over `database` that reads with ./cluster-read.ts and writes with the statements
 * below, stamping rows it inserts with `keyVersion` (lib/guard/match-keys.ts). The read is
 * prepared: node-postgres parses and plans it once per connection, not per request. Reads of large
 * customers run one at a time (./large-reads.ts).
 */
export function createContactStore(
  database: Database,
  keyVersion = toKeyVersion(DEFAULT_MATCH_KEYS),
): ContactStore {
  const gateLargeRead = createLargeReadGate()
  const store: ContactStore = {
    // Through runRead, which turns JIT off at no round trip's cost (lib/db/database.ts).
    readCluster: ({ emailKey, phoneKey }) =>
      gateLargeRead({ emailKey, phoneKey }, () =>
        database.runRead((db) => toPreparedRead(db).execute({ emailKey, phoneKey })),
      ),
    writePlan: async (plan, request, linkable, requestId) =>
      toInsertedId(
        plan,
        await database.runBatch((db) =>
          buildWrites(db, { plan, request, linkable, requestId, keyVersion }),
        ),
      ),
  }
  const { runTransaction } = database
  if (runTransaction === undefined) return store
  return {
    ...store,
    whileLocked: (keys, leaderIds, work) =>
      runTransaction(async (tx) => {
        await tx.execute(toLockClusterQuery({ keys, leaderIds }))
        return work(createLockedStore(tx, keys, leaderIds, keyVersion))
      }),
  }
}

// The store a locked retry works with: reads and writes in transaction `tx`, which holds the
// locks of `keys` and `leaderIds`.
function createLockedStore(
  tx: Db,
  keys: MatchKeys,
  leaderIds: readonly number[],
  keyVersion: string,
): ContactStore {
  // The same name and text as the pooled read, so a connection reuses its parsed statement.
  const lockedRead = toPreparedRead(tx)
  return {
    readCluster: ({ emailKey, phoneKey }) => lockedRead.execute({ emailKey, phoneKey }),
    // A lock the plan needs beyond those held (a leader that joined since) is out of the global
    // order: waiting for it could deadlock with a writer holding it and waiting for ours. So it is
    // taken only if free; if not, the caller retries and locks the plan's leaders, in order,
    // first. The write's own lock statement then re-takes held locks only (advisory locks nest).
    async writePlan(plan, request, linkable, requestId) {
      const missing = findMissingLocks(
        { keys, leaderIds },
        { keys: linkable, leaderIds: plan.rootIds },
      )
      if (missing.keys.length + missing.leaderIds.length > 0) {
        const rows = await selectRows<{ isTaken: boolean }>(tx, toTryLockClusterQuery(missing))
        if (rows[0]?.isTaken !== true) throw new ClusterChangedError()
      }
      return toInsertedId(
        plan,
        await runInOrder(buildWrites(tx, { plan, request, linkable, requestId, keyVersion })),
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

// The insert, when there is one, is the batch's last statement but the ledger's.
function toInsertedId(plan: LinkPlan, results: unknown[]): number | null {
  if (plan.insert === null) return null
  return (results.at(-2) as { id: number }[])[0]?.id ?? null
}

// What one write carries out: the plan, for the request and its keys that may link.
type Write = {
  plan: LinkPlan
  request: KeyedIdentifiers
  linkable: MatchKeys
  requestId: string | null
  keyVersion: string
}

/**
 * Returns the statements of one write, in the order they must run, built on `db` and not yet
 * sent (Drizzle's statements run when first awaited). Exported for ./rehearsal.ts only.
 */
export function buildWrites(
  db: Db,
  { plan, request, linkable, requestId, keyVersion }: Write,
): BatchStatement[] {
  const statements: BatchStatement[] = [
    // Locks first, the check in the next statement: at READ COMMITTED a statement sees what was
    // committed before it started, so only a later statement sees what committed during the wait.
    // The check reads through the blocklist as the read did: a value blocked meanwhile changes it.
    db.execute(toLockClusterQuery({ keys: linkable, leaderIds: plan.rootIds })),
    db.execute(
      sql`select contact_assert_cluster_version(${plan.version}, (${clusterVersionQuery(throughUnblocked(linkable))}))`,
    ),
  ]
  if (plan.primaryId === null) {
    // A new customer needs one value that may link, under the same locks as a block of it.
    statements.push(
      db.execute(sql`select contact_assert_linkable(${linkable.emailKey}, ${linkable.phoneKey})`),
    )
  }
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
        .values({ ...plan.insert, keyVersion, updatedAt: plan.insert.createdAt })
        .returning({ id: contact.id }),
    )
  }
  // Last, so that it can name the row just inserted: a change and its record commit together.
  const record = buildRecordEvents(db, toLedgerEvents(plan, request), {
    at: plan.now,
    requestId,
  })
  if (record !== null) statements.push(record)
  return statements
}
