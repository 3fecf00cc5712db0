/**
 * Reads and rewrites customer clusters in the `Contact` table, with the statements the write
 * protocol needs (README, Decisions: "Concurrency protocol").
 */
import { eq, sql } from 'drizzle-orm'
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
import { clusterVersionQuery, toPreparedRead } from './cluster-read.js'
import { createLargeReadGate } from './large-reads.js'
import type { ContactStore } from './shell.js'

/**
 * Returns a store over `database` that reads with ./cluster-read.ts and writes with the statements
 * below. The read is prepared: node-postgres parses and plans it once per connection, not per
 * request. Reads of large customers run one at a time (./large-reads.ts).
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
  const lockedRead = toPreparedRead(tx)
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
