/**
 * The statements that change the blocklist and erase values, each run in the guard's one batch
 * after its checks (./store.ts, ./shell.ts).
 */
import { createHmac } from 'node:crypto'
import { type SQL, sql } from 'drizzle-orm'
import type { KeyRef } from '../core/blocklist.js'
import { type BatchStatement, type Db, toSqlArray } from '../db/database.js'
import { blockedIdentifier, erasedIdentifier } from '../db/schema.js'

/** Returns the statement that puts `ref` on the store's blocklist. */
export function buildBlock(
  db: Db,
  ref: KeyRef & { value: string },
  reason: 'store' | 'auto',
  now: Date,
): BatchStatement {
  return db
    .insert(blockedIdentifier)
    .values({ kind: ref.kind, key: ref.key, value: ref.value, reason, createdAt: now })
    .onConflictDoNothing()
}

/** Returns the statement that takes `ref` off the store's blocklist. */
export function buildUnblock(db: Db, ref: KeyRef): BatchStatement {
  return db.execute(
    sql`delete from "BlockedIdentifier" where "kind" = ${ref.kind} and "key" = ${ref.key}`,
  )
}

/**
 * The keyed hash erasure keeps of a value, so that a re-key or an import of old orders can tell
 * it was erased without holding it: HMAC-SHA-256 of `kind:key` under ERASURE_KEY, in hex.
 */
export function toErasureHash({ kind, key }: KeyRef, erasureKey: string): string {
  return createHmac('sha256', erasureKey).update(`${kind}:${key}`).digest('hex')
}

/** What an erasure removes: values wherever they are held, and the rows it deletes. */
export type Erasure = {
  refs: readonly KeyRef[]
  /** Live rows left without an identifier, deleted. */
  deletedIds: readonly number[]
  /** A whole customer's rows, deleted whatever they hold. */
  contactIds: readonly number[]
  erasureKey: string
}

/**
 * Returns the statements of an erasure, to run after the live rows are relinked: rows left with
 * nothing are deleted (soft-deleted ones too), the values are removed from every row and from the
 * ledger's evidence, a quarantine of them is lifted, and their keyed hashes are kept.
 */
export function buildErasure(db: Db, erasure: Erasure, now: Date): BatchStatement[] {
  const emailKeys = erasure.refs.filter((ref) => ref.kind === 'email').map((ref) => ref.key)
  const phoneKeys = erasure.refs.filter((ref) => ref.kind === 'phoneNumber').map((ref) => ref.key)
  const emails = toSqlArray(emailKeys, 'text')
  const phones = toSqlArray(phoneKeys, 'text')
  const ids = toSqlArray([...erasure.deletedIds, ...erasure.contactIds], 'integer')
  // Rows to delete: those named, and soft-deleted ones the erasure leaves with no identifier.
  const doomed: SQL = sql`(
    select "id" from "Contact" where "id" = any(${ids})
    union
    select "id" from "Contact"
    where "deletedAt" is not null
      and ("email" is null or "emailKey" = any(${emails}))
      and ("phoneNumber" is null or "phoneKey" = any(${phones})))`
  const statements: BatchStatement[] = [
    // A soft-deleted row may still point at a row about to go; live ones were relinked already.
    db.execute(sql`
      update "Contact" set "linkedId" = null, "linkPrecedence" = 'primary', "updatedAt" = ${now}
      where "linkedId" in ${doomed} and "id" not in ${doomed}`),
    db.execute(sql`delete from "Contact" where "id" in ${doomed}`),
    db.execute(sql`
      update "Contact" set "email" = null, "emailKey" = null, "updatedAt" = ${now}
      where "emailKey" = any(${emails})`),
    db.execute(sql`
      update "Contact" set "phoneNumber" = null, "phoneKey" = null, "updatedAt" = ${now}
      where "phoneKey" = any(${phones})`),
    db.execute(sql`
      update "ContactEvent" set "evidenceEmail" = null, "evidenceEmailKey" = null
      where "evidenceEmailKey" = any(${emails})`),
    db.execute(sql`
      update "ContactEvent" set "evidencePhoneNumber" = null, "evidencePhoneKey" = null
      where "evidencePhoneKey" = any(${phones})`),
    db.execute(sql`
      delete from "BlockedIdentifier" where "reason" = 'auto'
        and (("kind" = 'email' and "key" = any(${emails}))
          or ("kind" = 'phoneNumber' and "key" = any(${phones})))`),
  ]
  if (erasure.refs.length > 0) {
    statements.push(
      db
        .insert(erasedIdentifier)
        .values(
          erasure.refs.map((ref) => ({
            kind: ref.kind,
            keyHash: toErasureHash(ref, erasure.erasureKey),
            erasedAt: now,
          })),
        )
        .onConflictDoNothing(),
    )
  }
  return statements
}
