/**
 * The advisory locks a write takes (README, Decisions: "Concurrency protocol"), as the statements
 * that take them. The database derives the keys, in contact_lock_keys
 * (drizzle/0004_bounded_cluster_locks.sql), so every writer, whatever its version, agrees on them.
 */
import { type SQL, sql } from 'drizzle-orm'
import type { MatchKeys } from '../core/contact.js'
import { toSqlArray } from '../db/database.js'

/**
 * A write with more leaders than this locks all clusters at once, exclusively, instead of each
 * leader; one with fewer shares that lock. The same bound as in contact_lock_keys.
 */
export const MAX_LEADER_LOCKS = 16

/** What a write locks: the match keys of its request and the leaders of the cluster it read. */
export type LockScope = { keys: MatchKeys; leaderIds: readonly number[] }

/** The locks to take, as lock identifiers (see `toLockIdentifiers`) and leader ids. */
export type LockList = { keys: string[]; leaderIds: number[] }

/**
 * Returns the advisory-lock identifiers of a request's match keys; emails and phone numbers never
 * collide. A block or an erasure of a value takes the same lock as a request bringing it.
 */
export function toLockIdentifiers({ emailKey, phoneKey }: MatchKeys): string[] {
  const keys: string[] = []
  if (emailKey !== null) keys.push(`email:${emailKey}`)
  if (phoneKey !== null) keys.push(`phone:${phoneKey}`)
  return keys
}

/** Returns the statement that waits for every lock of `scope`, in the one global order. */
export const toLockClusterQuery = ({ keys, leaderIds }: LockScope): SQL =>
  sql`select contact_lock_cluster(${toSqlArray(toLockIdentifiers(keys), 'text')}, ${toSqlArray(leaderIds, 'integer')})`

/** Returns the statement that takes the locks of `list` that are free, as `isTaken`: all were. */
export const toTryLockClusterQuery = ({ keys, leaderIds }: LockList): SQL =>
  sql`select contact_try_lock_cluster(${toSqlArray(keys, 'text')}, ${toSqlArray(leaderIds, 'integer')}) as "isTaken"`

const isLockedWhole = (leaderIds: readonly number[]) => leaderIds.length > MAX_LEADER_LOCKS

/**
 * Returns the locks a transaction holding those of `held` still needs to write `planned`, such
 * that taking them leaves every lock of `planned` held in its mode: the write's own lock statement
 * then re-takes held locks only (advisory locks nest) and never waits.
 */
export function findMissingLocks(held: LockScope, planned: LockScope): LockList {
  const heldKeys = new Set(toLockIdentifiers(held.keys))
  const keys = toLockIdentifiers(planned.keys).filter((key) => !heldKeys.has(key))
  // Leaders locked as a whole hold no lock each; a plan locked as a whole needs its whole list,
  // so the try takes the exclusive lock, not the shared one that a part of the list would.
  if (isLockedWhole(planned.leaderIds)) {
    return { keys, leaderIds: isLockedWhole(held.leaderIds) ? [] : [...planned.leaderIds] }
  }
  const heldLeaders = new Set(isLockedWhole(held.leaderIds) ? [] : held.leaderIds)
  return { keys, leaderIds: planned.leaderIds.filter((id) => !heldLeaders.has(id)) }
}
