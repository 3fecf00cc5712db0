/**
 * The guard's operations: block, unblock, quarantine and erase. Each reads the customers a value
 * (or a contact) touches, regroups them by what is left of the evidence (lib/core/regroup.ts), and
 * writes the result in one transaction under the customers' locks, retrying like identify when a
 * concurrent write changed them first. A dry run stops before writing and answers the same.
 */
import { findBuiltInRule, type KeyRef } from '../core/blocklist.js'
import type { ContactRow, MatchKeys } from '../core/contact.js'
import { holds, toMergeEvents, toSplitEvents, toTouchEvents } from '../core/guard-events.js'
import type { PlannedEvent } from '../core/ledger.js'
import { planRegroup, type Regroup } from '../core/regroup.js'
import type { BatchStatement, Database, Db } from '../db/database.js'
import { classifyDatabaseError, type DatabaseFailure } from '../db/errors.js'
import { throughKeys } from '../identify/cluster-read.js'
import { DEFAULT_RETRY, type RetryPolicy } from '../identify/shell.js'
import { buildRecordEvents } from '../ledger/record.js'
import { type Affected, buildGuardChecks, buildRelinks, readAffected, toRefText } from './store.js'
import { buildBlock, buildUnblock } from './writes.js'

/** What the guard's operations need; tests pass real databases and fixed clocks. */
export type GuardDeps = {
  database: Database
  /** The key erasure hashes erased values with (ERASURE_KEY). */
  erasureKey: string
  now?: () => Date
  retry?: RetryPolicy
  sleep?: (ms: number) => Promise<void>
}

/** A value the admin API names: its kind, its match key and its value as given. */
export type ValueRef = KeyRef & { value: string }

/** How one operation ended: done (or would be, in a dry run), refused, or the database failed. */
export type GuardResult<T> =
  | ({ ok: true } & T)
  | { ok: false; error: 'already_blocked' | 'built_in' | 'not_blocked' | 'not_found' }
  | { ok: false; error: Exclude<DatabaseFailure, 'unexpected'> }

/** What a block (or quarantine) did to the customers holding the value. */
export type BlockOutcome = { splits: Regroup['splits']; contactIds: number[] }

/** What an unblock did: the customers the value joins again. */
export type UnblockOutcome = { merges: Regroup['merges']; contactIds: number[] }

/** A dry run answers what would happen and writes nothing; the ledger names the request. */
export type Options = { dryRun?: boolean; requestId?: string | null }

/** The match keys that name `ref` alone. */
export const keysOf = ({ kind, key }: KeyRef): MatchKeys =>
  kind === 'email' ? { emailKey: key, phoneKey: null } : { emailKey: null, phoneKey: key }

/** No keys: the anchor of a read that starts from a contact id. */
export const NO_KEYS: MatchKeys = { emailKey: null, phoneKey: null }

/** Blocks `ref` for the store (reason `store`), or quarantines it (`auto`), splitting customers. */
export function blockValue(
  deps: GuardDeps,
  ref: ValueRef,
  reason: 'store' | 'auto',
  options: Options = {},
): Promise<GuardResult<BlockOutcome>> {
  return withRetries(deps, async (): Promise<GuardResult<BlockOutcome>> => {
    if (findBuiltInRule(ref) !== null) return { ok: false, error: 'built_in' as const }
    const affected = await readAffected(deps.database, throughKeys(keysOf(ref)), keysOf(ref))
    if (affected.blocked.has(toRefText(ref))) {
      // A quarantine that lost a race to another one has nothing left to do.
      return reason === 'auto'
        ? { ok: true, splits: [], contactIds: [] }
        : { ok: false, error: 'already_blocked' as const }
    }
    const regroup = regroupWithout(affected, ref, affected.rows, false)
    const contactIds = affected.rows.filter((row) => holds(row, ref)).map((row) => row.id)
    if (options.dryRun !== true) {
      const kind = reason === 'auto' ? 'identifier_quarantined' : 'identifier_blocked'
      const events = [
        ...toTouchEvents(kind, ref, affected.rows),
        ...toSplitEvents(regroup, ref.kind),
      ]
      await writeGuarded(
        deps,
        affected,
        options,
        (db, now) => [buildBlock(db, ref, reason, now), buildRelinks(db, regroup.relinks, now)],
        events,
      )
    }
    return { ok: true, splits: regroup.splits, contactIds }
  })
}

/** Takes `ref` off the store's blocklist, joining the customers it links again. */
export function unblockValue(
  deps: GuardDeps,
  ref: KeyRef,
  options: Options = {},
): Promise<GuardResult<UnblockOutcome>> {
  return withRetries(deps, async (): Promise<GuardResult<UnblockOutcome>> => {
    if (findBuiltInRule(ref) !== null) return { ok: false, error: 'built_in' as const }
    const affected = await readAffected(deps.database, throughKeys(keysOf(ref)), keysOf(ref))
    if (!affected.blocked.has(toRefText(ref))) return { ok: false, error: 'not_blocked' as const }
    affected.blocked.delete(toRefText(ref))
    const regroup = planRegroup({
      rows: affected.rows,
      pairs: affected.pairs,
      isBlocked: (other) => affected.blocked.has(toRefText(other)),
      keepCustomers: true,
    })
    const contactIds = affected.rows.filter((row) => holds(row, ref)).map((row) => row.id)
    if (options.dryRun !== true) {
      const events = [
        ...toTouchEvents('identifier_unblocked', ref, affected.rows),
        ...toMergeEvents(regroup, ref.kind),
      ]
      await writeGuarded(
        deps,
        affected,
        options,
        (db, now) => [buildUnblock(db, ref), buildRelinks(db, regroup.relinks, now)],
        events,
      )
    }
    return { ok: true, merges: regroup.merges, contactIds }
  })
}

/**
 * Regroups the customers holding `ref` by the evidence, with the blocklist as it stands: joining
 * those that now share an unblocked key (`join`, after a re-key), or splitting those held
 * together only by a key a built-in rule now blocks (`split`). Nothing else changes.
 */
export function regroupAround(
  deps: GuardDeps,
  ref: KeyRef,
  mode: 'join' | 'split',
  options: Options = {},
): Promise<GuardResult<{ regroup: Regroup }>> {
  return withRetries(deps, async (): Promise<GuardResult<{ regroup: Regroup }>> => {
    const affected = await readAffected(deps.database, throughKeys(keysOf(ref)), keysOf(ref))
    const regroup = planRegroup({
      rows: affected.rows,
      pairs: affected.pairs,
      isBlocked: (other) => affected.blocked.has(toRefText(other)),
      keepCustomers: mode === 'join',
    })
    if (options.dryRun !== true && regroup.relinks.length > 0) {
      const events: PlannedEvent[] =
        mode === 'join' ? toMergeEvents(regroup, ref.kind) : toSplitEvents(regroup, ref.kind)
      await writeGuarded(
        deps,
        affected,
        options,
        (db, now) => [buildRelinks(db, regroup.relinks, now)],
        events,
      )
    }
    return { ok: true, regroup }
  })
}

function regroupWithout(
  affected: Affected,
  ref: KeyRef,
  rows: readonly ContactRow[],
  keepCustomers: boolean,
): Regroup {
  return planRegroup({
    rows,
    pairs: affected.pairs,
    isBlocked: (other) =>
      (other.kind === ref.kind && other.key === ref.key) || affected.blocked.has(toRefText(other)),
    keepCustomers,
  })
}

/** Writes a guard operation: its checks, its statements, then its events, in one batch. */
export async function writeGuarded(
  deps: GuardDeps,
  affected: Affected,
  options: Options,
  build: (db: Db, now: Date) => (BatchStatement | null)[],
  events: PlannedEvent[],
): Promise<void> {
  const now = (deps.now ?? (() => new Date()))()
  await deps.database.runBatch((db) => {
    const statements = [...buildGuardChecks(db, affected), ...build(db, now)]
    statements.push(
      buildRecordEvents(db, events, { at: now, requestId: options.requestId ?? null }),
    )
    return statements.filter((statement): statement is BatchStatement => statement !== null)
  })
}

const sleepFor = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** Runs `attempt` until it is not refused by a conflict, as identify retries (lib/identify/shell.ts). */
export async function withRetries<T>(
  deps: GuardDeps,
  attempt: () => Promise<GuardResult<T>>,
): Promise<GuardResult<T>> {
  const retry = deps.retry ?? DEFAULT_RETRY
  const sleep = deps.sleep ?? sleepFor
  for (let n = 1; ; n++) {
    try {
      return await attempt()
    } catch (error) {
      const failure = classifyDatabaseError(error)
      if (failure === 'unexpected') throw error
      if (failure !== 'conflict' || n >= retry.maxAttempts) return { ok: false, error: failure }
      await sleep(Math.random() * Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** n))
    }
  }
}
