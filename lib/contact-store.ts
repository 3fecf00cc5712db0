/**
 * Reads and rewrites customer clusters in the `Contact` table, with the statements the write
 * protocol needs (README, Decisions: "Concurrency protocol").
 */
import { asc, eq, inArray, or, type SQL, sql } from 'drizzle-orm'
import type { ContactRow, Identifiers } from './contact.js'
import type { BatchStatement, Database, Db } from './db.js'
import type { LinkPlan } from './linking.js'
import { contact } from './schema.js'

/** The database operations the identify shell needs; see `createContactStore`. */
export type ContactStore = {
  /** Returns the live rows of every customer the identifiers touch, in one statement. */
  readCluster(identifiers: Identifiers): Promise<ContactRow[]>
  /**
   * Carries out `plan` in one transaction, after locking and checking that the cluster is still
   * the one it was planned on; returns the inserted row's id, if any. Throws a 40001 error when
   * the cluster changed, which the caller retries.
   */
  writePlan(plan: LinkPlan, identifiers: Identifiers): Promise<number | null>
}

/**
 * Returns a subquery of the ids of every live row in the customers that `identifiers` touch:
 * the rows holding either identifier, their ancestors up to the root, and every descendant of
 * those. Chains and cycles left by older writers are followed; `union` stops at rows seen before.
 */
export function selectClusterIds(identifiers: Identifiers): SQL {
  const matches: SQL[] = []
  if (identifiers.email !== null) matches.push(eq(contact.email, identifiers.email))
  if (identifiers.phoneNumber !== null)
    matches.push(eq(contact.phoneNumber, identifiers.phoneNumber))
  return sql`
    with recursive
      ancestors as (
        select "id", "linkedId" from "Contact"
        where "deletedAt" is null and (${or(...matches)})
        union
        select parent."id", parent."linkedId" from "Contact" parent
        join ancestors on parent."id" = ancestors."linkedId"
        where parent."deletedAt" is null
      ),
      members as (
        select "id" from ancestors
        union
        select child."id" from "Contact" child
        join members on child."linkedId" = members."id"
        where child."deletedAt" is null
      )
    select "id" from members`
}

/** The SQL twin of `toClusterVersion` in lib/linking.ts: the same text for the same rows. */
function selectClusterVersion(identifiers: Identifiers): SQL {
  return sql`
    select coalesce(string_agg("id" || ':' || coalesce("linkedId"::text, ''), ',' order by "id"), '')
    from "Contact" where "id" in (${selectClusterIds(identifiers)})`
}

/** Returns the advisory-lock identifiers of a request; emails and phone numbers never collide. */
export function toLockIdentifiers(identifiers: Identifiers): string[] {
  const keys: string[] = []
  if (identifiers.email !== null) keys.push(`email:${identifiers.email}`)
  if (identifiers.phoneNumber !== null) keys.push(`phone:${identifiers.phoneNumber}`)
  return keys
}

// Arrays are passed element by element so every driver binds them the same way.
const toArray = (values: readonly (string | number)[], type: 'text' | 'integer') =>
  sql`array[${sql.join(
    values.map((value) => sql`${value}`),
    sql`, `,
  )}]::${sql.raw(type)}[]`

/** Returns a store over `database` that reads and writes with the statements above. */
export function createContactStore(database: Database): ContactStore {
  return {
    readCluster: (identifiers) =>
      database.db
        .select({
          id: contact.id,
          email: contact.email,
          phoneNumber: contact.phoneNumber,
          linkedId: contact.linkedId,
          linkPrecedence: contact.linkPrecedence,
          createdAt: contact.createdAt,
        })
        .from(contact)
        .where(sql`${contact.id} in (${selectClusterIds(identifiers)})`)
        .orderBy(asc(contact.createdAt), asc(contact.id)),

    async writePlan(plan, identifiers) {
      const results = await database.runBatch((db) => buildWrites(db, plan, identifiers))
      const inserted = plan.insert === null ? undefined : (results.at(-1) as { id: number }[])[0]
      return inserted?.id ?? null
    },
  }
}

function buildWrites(db: Db, plan: LinkPlan, identifiers: Identifiers): BatchStatement[] {
  const statements: BatchStatement[] = [
    // Locks first, the check in the next statement: at READ COMMITTED a statement sees what was
    // committed before it started, so only a later statement sees what committed during the wait.
    db.execute(
      sql`select contact_lock_cluster(${toArray(toLockIdentifiers(identifiers), 'text')}, ${toArray(plan.rootIds, 'integer')})`,
    ),
    db.execute(
      sql`select contact_assert_cluster_version(${plan.version}, (${selectClusterVersion(identifiers)}))`,
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
        .where(inArray(contact.id, plan.relinkIds)),
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
  return statements
}
