/**
 * The guard's operations: block, unblock, quarantine and erase. Each reads the customers a value
 * (or a contact) touches, regroups them by what is left of the evidence (lib/core/regroup.ts), and
 * writes the result in one transaction under the customers' locks, retrying like identify when a
 * concurrent write changed them first. A dry run stops before writing and answers the same.
 */
import { findBuiltInRule, type KeyRef } from '../core/blocklist.js'
import type { ContactRow, MatchKeys } from '../core/contact.js'
import type { PlannedEvent } from '../core/ledger.js'
import { planRegroup, type Regroup } from '../core/regroup.js'
import type { BatchStatement, Database, Db } from '../db/database.js'
import { classifyDatabaseError, type DatabaseFailure } from '../db/errors.js'
import { throughContact, throughKeys } from '../identify/cluster-read.js'
import { DEFAULT_RETRY, type RetryPolicy } from '../identify/shell.js'
import { buildRecordEvents } from '../ledger/record.js'
import { type Affected, buildGuardChecks, buildRelinks, readAffected, toRefText } from './store.js'
import { buildBlock, buildErasure, buildUnblock, type Erasure } from './writes.js'

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

/** What an erasure removed, and how the customers left fell apart. */
export type EraseOutcome = {
  contactIds: number[]
  deletedContactIds: number[]
  emails: string[]
  phoneNumbers: string[]
  splits: Regroup['splits']
}

type Options = { dryRun?: boolean; requestId?: string | null }

const keysOf = ({ kind, key }: KeyRef): MatchKeys =>
  kind === 'email' ? { emailKey: key, phoneKey: null } : { emailKey: null, phoneKey: key }

const holds = (row: ContactRow, { kind, key }: KeyRef) =>
  (kind === 'email' ? row.emailKey : row.phoneKey) === key

const customerOf = (row: ContactRow) => row.linkedId ?? row.id

const NO_KEYS: MatchKeys = { emailKey: null, phoneKey: null }

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
      await write(
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
        ...regroup.merges.map(
          (merge): PlannedEvent => ({
            kind: 'customers_merged',
            primaryId: merge.primaryContactId,
            contactIds: [merge.primaryContactId, ...merge.absorbed],
            absorbedIds: merge.absorbed,
            joinedBy: ref.kind,
            evidence: null,
          }),
        ),
      ]
      await write(
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
        mode === 'join'
          ? regroup.merges.map((merge) => ({
              kind: 'customers_merged',
              primaryId: merge.primaryContactId,
              contactIds: [merge.primaryContactId, ...merge.absorbed],
              absorbedIds: merge.absorbed,
              joinedBy: ref.kind,
              evidence: null,
            }))
          : toSplitEvents(regroup, ref.kind)
      await write(
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

/** Erases `ref` wherever it is held: the rows, the ledger's evidence, a quarantine entry. */
export function eraseValue(
  deps: GuardDeps,
  ref: ValueRef,
  options: Options = {},
): Promise<GuardResult<EraseOutcome>> {
  return withRetries(deps, async (): Promise<GuardResult<EraseOutcome>> => {
    const affected = await readAffected(deps.database, throughKeys(keysOf(ref)), keysOf(ref))
    const held = affected.rows.filter((row) => holds(row, ref))
    if (held.length === 0) return { ok: false, error: 'not_found' as const }
    return erase(deps, affected, { refs: [ref], contactIds: held.map((row) => row.id) }, options)
  })
}

/** Erases the customer `contactId` belongs to: every row, and every value only it held. */
export function eraseCustomer(
  deps: GuardDeps,
  contactId: number,
  options: Options = {},
): Promise<GuardResult<EraseOutcome>> {
  return withRetries(deps, async (): Promise<GuardResult<EraseOutcome>> => {
    const affected = await readAffected(deps.database, throughContact(contactId), NO_KEYS)
    if (affected.rows.length === 0) return { ok: false, error: 'not_found' as const }
    // A blocked value (a placeholder, the store's own phone) is not this person's: it is removed
    // with their rows, and stays on everyone else's.
    const refs: ValueRef[] = []
    for (const row of affected.rows) {
      for (const ref of [
        { kind: 'email' as const, key: row.emailKey, value: row.email },
        { kind: 'phoneNumber' as const, key: row.phoneKey, value: row.phoneNumber },
      ]) {
        if (ref.key === null || ref.value === null) continue
        const keyRef = { kind: ref.kind, key: ref.key }
        if (findBuiltInRule(keyRef) !== null || affected.blocked.has(toRefText(keyRef))) continue
        if (!refs.some((known) => known.kind === ref.kind && known.key === ref.key)) {
          refs.push({ ...keyRef, value: ref.value })
        }
      }
    }
    const contactIds = affected.rows.map((row) => row.id)
    return erase(deps, affected, { refs, contactIds, isWholeCustomer: true }, options)
  })
}

async function erase(
  deps: GuardDeps,
  affected: Affected,
  target: { refs: ValueRef[]; contactIds: number[]; isWholeCustomer?: boolean },
  options: Options,
): Promise<GuardResult<EraseOutcome>> {
  const held = new Set(target.contactIds)
  const isErased = (kind: KeyRef['kind'], key: string | null) =>
    key !== null && target.refs.some((ref) => ref.kind === kind && ref.key === key)
  const remaining: ContactRow[] = []
  const deleted: number[] = []
  for (const row of affected.rows) {
    const emailGone = isErased('email', row.emailKey) || target.isWholeCustomer === true
    const phoneGone = isErased('phoneNumber', row.phoneKey) || target.isWholeCustomer === true
    const left = {
      ...row,
      ...(emailGone ? { email: null, emailKey: null } : {}),
      ...(phoneGone ? { phoneNumber: null, phoneKey: null } : {}),
    }
    if (
      left.emailKey === null &&
      left.phoneKey === null &&
      left.email === null &&
      left.phoneNumber === null
    ) {
      deleted.push(row.id)
    } else {
      remaining.push(left)
    }
  }
  const regroup = planRegroup({
    rows: remaining,
    pairs: affected.pairs.filter(
      (pair) => !isErased('email', pair.emailKey) && !isErased('phoneNumber', pair.phoneKey),
    ),
    isBlocked: (ref) => affected.blocked.has(toRefText(ref)),
    keepCustomers: false,
  })
  const outcome: EraseOutcome = {
    contactIds: [...held].sort((a, b) => a - b),
    deletedContactIds: deleted.sort((a, b) => a - b),
    emails: target.refs.filter((ref) => ref.kind === 'email').map((ref) => ref.value),
    phoneNumbers: target.refs.filter((ref) => ref.kind === 'phoneNumber').map((ref) => ref.value),
    splits: regroup.splits,
  }
  if (options.dryRun === true) return { ok: true, ...outcome }
  const erasure: Erasure = {
    refs: target.refs,
    deletedIds: deleted,
    contactIds: target.isWholeCustomer === true ? target.contactIds : [],
    erasureKey: deps.erasureKey,
  }
  const firstRef = target.refs[0]
  const events: PlannedEvent[] = target.isWholeCustomer
    ? [
        {
          kind: 'customer_erased',
          primaryId: customerOf(affected.rows[0] as ContactRow),
          contactIds: target.contactIds,
          absorbedIds: [],
          joinedBy: null,
          evidence: null,
        },
      ]
    : [
        ...(firstRef === undefined
          ? []
          : toTouchEvents('identifier_erased', firstRef, affected.rows)),
        ...toSplitEvents(regroup, firstRef?.kind ?? 'email'),
      ]
  await write(
    deps,
    affected,
    options,
    (db, now) => [buildRelinks(db, regroup.relinks, now), ...buildErasure(db, erasure, now)],
    events,
  )
  return { ok: true, ...outcome }
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

// One event per customer the value touched, naming the rows that hold it.
function toTouchEvents(
  kind: PlannedEvent['kind'],
  ref: KeyRef,
  rows: readonly ContactRow[],
): PlannedEvent[] {
  const byCustomer = new Map<number, number[]>()
  for (const row of rows) {
    if (!holds(row, ref)) continue
    const ids = byCustomer.get(customerOf(row)) ?? []
    ids.push(row.id)
    byCustomer.set(customerOf(row), ids)
  }
  return [...byCustomer].map(([primaryId, ids]) => ({
    kind,
    primaryId,
    contactIds: [...new Set([primaryId, ...ids])],
    absorbedIds: [],
    joinedBy: ref.kind,
    evidence: null,
  }))
}

function toSplitEvents(regroup: Regroup, kind: KeyRef['kind']): PlannedEvent[] {
  return regroup.splits.map((split) => ({
    kind: 'customer_split',
    primaryId: split.primaryContactId,
    contactIds: [
      split.primaryContactId,
      ...split.into.filter((id) => id !== split.primaryContactId),
    ],
    absorbedIds: [],
    joinedBy: kind,
    evidence: null,
  }))
}

async function write(
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

// Runs `attempt` until it is not refused by a conflict, as identify retries (lib/identify/shell.ts).
async function withRetries<T>(
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
