/**
 * `npm run backfill`: streams a file of past orders into a staging table, plans from a snapshot
 * what identify would have made of them (lib/core/backfill.ts), stages the plan, then takes the
 * lock over all clusters only to check that nothing it read changed and to move the staged plan
 * into place, in one transaction; a dry run only reports it (docs/decisions/014-backfill.md).
 */
import { randomUUID } from 'node:crypto'
import type { Readable } from 'node:stream'
import pg from 'pg'
import { type BackfillPlan, createBackfillPlanner } from '../core/backfill.js'
import { CONNECT_TIMEOUT_MS } from '../db/database.js'
import { toDirectUrl } from '../db/migrate.js'
import type { GuardConfig } from '../guard/config.js'
import { toKeyVersion } from '../guard/match-keys.js'
import { createErasureFilter } from './erased.js'
import { type InputFormat, type RejectedLine, type RejectedLines, streamOrders } from './input.js'
import { insertStagedRows, type Placement, relinkStaged, reserveIds } from './placement.js'
import { forEachSortedOrder, stageOrders, stagePlan } from './staging.js'
import { type ChangeMark, CLUSTERS_LOCK, hasChangedSince, readTableState } from './store.js'

/** How a backfill runs. */
export type BackfillOptions = {
  /** A PostgreSQL URL; Neon's pooled endpoint is replaced by its direct one. */
  url: string
  input: Readable
  format: InputFormat
  dryRun: boolean
  strict: boolean
  guard: GuardConfig
  now?: () => Date
  /** Called as lines are read, and when a phase starts. */
  onProgress?: (progress: { phase: BackfillPhase; lines: number }) => void
  /** Aborts the run (Ctrl-C): the transaction is rolled back, nothing is written. */
  signal?: AbortSignal
  /** Tests: runs once the plan is staged, before the lock is taken. */
  beforeLock?: () => Promise<void>
  /** Tests: runs inside the transaction after the writes, before the commit. */
  beforeCommit?: (client: pg.ClientBase) => Promise<void>
}

/** Where a run is. */
export type BackfillPhase = 'reading' | 'planning' | 'locking' | 'writing' | 'done'

/** What a run read, did (or would do), and cost. Ids and counts only, never a value. */
export type BackfillReport = {
  dryRun: boolean
  ordersRead: number
  rejected: RejectedLine[]
  rejectedCount: number
  /** Orders refused because every identifier is blocked (identify's 422), first lines. */
  unlinkableLines: number[]
  unlinkableCount: number
  /** Identifiers dropped because they were erased after the order, and orders left empty. */
  erasedIdentifiers: number
  erasedOrders: number
  newCustomers: number
  mergedExisting: number
  largestMerged: number
  rowsInserted: number
  rowsRelinked: number
  quarantined: number
  events: number
  /** Whether what the plan read changed before the lock, so it was planned again under it. */
  replanned: boolean
  /** How long the lock over all clusters was held (0 in a dry run). */
  lockHeldMs: number
  durationMs: number
  /** Peak resident memory of the process, in MiB. */
  peakRssMiB: number
  /** Where the time went, in milliseconds; `write` is the locked part. */
  phases: { read: number; state: number; plan: number; stage: number; write: number }
}

type Phases = BackfillReport['phases']

// A plan and what it was made from.
type Planned = {
  plan: BackfillPlan
  firstNewId: number
  mark: ChangeMark
  erased: { identifiers: number; emptied: number }
}

/** Runs a backfill; throws BackfillInputError for an unreadable file, or a database error. */
export async function runBackfill(options: BackfillOptions): Promise<BackfillReport> {
  const started = performance.now()
  const now = options.now ?? (() => new Date())
  const phases: Phases = { read: 0, state: 0, plan: 0, stage: 0, write: 0 }
  let mark = started
  const lap = (phase: keyof Phases) => {
    const at = performance.now()
    phases[phase] += Math.round(at - mark)
    mark = at
  }
  const client = new pg.Client({
    connectionString: toDirectUrl(options.url),
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
  })
  client.on('error', () => {})
  await client.connect()
  // Ctrl-C: closing the connection makes the server roll the transaction back.
  const abort = () => void client.end().catch(() => {})
  options.signal?.addEventListener('abort', abort, { once: true })
  let lockHeldMs = 0
  let replanned = false
  try {
    options.signal?.throwIfAborted()
    options.onProgress?.({ phase: 'reading', lines: 0 })
    const skipped: RejectedLines = { rejected: [], rejectedCount: 0 }
    // The session's staging table: outside any transaction, it outlives the plan's.
    const ordersRead = await stageOrders(
      client,
      streamOrders(
        options.input,
        {
          format: options.format,
          strict: options.strict,
          matchKeys: options.guard.matchKeys,
          onRecord: (lines) => options.onProgress?.({ phase: 'reading', lines }),
        },
        skipped,
      ),
    )
    lap('read')
    const progress = (phase: BackfillPhase) => options.onProgress?.({ phase, lines: ordersRead })
    progress('planning')
    // The plan is made from one snapshot, without the lock: identify keeps writing meanwhile.
    await client.query(
      `begin isolation level repeatable read;
       set local jit = off; set local statement_timeout = 0; set local work_mem = '64MB'`,
    )
    let planned = await planFromTable(client, options, now, lap)
    await client.query('commit')
    if (!options.dryRun) {
      progress('locking')
      const requestId = `backfill-${randomUUID()}`
      const place = (first: number): Placement => ({
        planned: planned.firstNewId,
        first,
        count: planned.plan.inserts.count,
        quarantined: planned.plan.quarantined,
        keyVersion: toKeyVersion(options.guard.matchKeys),
        requestId,
        now: now(),
      })
      // The ids first, under a hold of the lock of a few milliseconds: then the rows and events
      // go in before the lock, unseen until the commit.
      let placement = place(planned.firstNewId)
      if (placement.count > 0) {
        const reserved = await holdLock(client, () => reserveIds(client, placement.count))
        lockHeldMs += reserved.heldMs
        placement = place(reserved.value)
      }
      const begin = () =>
        client.query(
          `begin isolation level read committed;
           set local jit = off; set local statement_timeout = 0; set local lock_timeout = '30s';
           set local work_mem = '64MB'`,
        )
      await begin()
      await insertStagedRows(client, placement)
      await options.beforeLock?.()
      await client.query(CLUSTERS_LOCK)
      let lockedAt = performance.now()
      // A write that changes what the plan read may have committed before the lock: then all
      // starts again holding the lock from the first statement, as the whole backfill used to be
      // (bounded: once). The rows put in before go, and the transaction's id, which orders its
      // events in the feed (lib/ledger/feed.ts), comes after that write's.
      if (await hasChangedSince(client, planned.mark)) {
        replanned = true
        await client.query('rollback')
        lockHeldMs += Math.round(performance.now() - lockedAt)
        await begin()
        await client.query(CLUSTERS_LOCK)
        lockedAt = performance.now()
        planned = await planFromTable(client, options, now, lap)
        const count = planned.plan.inserts.count
        placement = place(count > 0 ? await reserveIds(client, count) : planned.firstNewId)
        await insertStagedRows(client, placement)
      }
      progress('writing')
      if (placement.count > 0 && placement.first < planned.firstNewId) {
        throw new Error('Invariant broken: the Contact id sequence is behind the table')
      }
      await relinkStaged(client, placement)
      await options.beforeCommit?.(client)
      await client.query('commit')
      lockHeldMs += Math.round(performance.now() - lockedAt)
      lap('write')
    }
    progress('done')
    const { plan } = planned
    return {
      dryRun: options.dryRun,
      ordersRead,
      rejected: skipped.rejected,
      rejectedCount: skipped.rejectedCount,
      unlinkableLines: plan.unlinkable.lines,
      unlinkableCount: plan.unlinkable.count,
      erasedIdentifiers: planned.erased.identifiers,
      erasedOrders: planned.erased.emptied,
      newCustomers: plan.summary.newCustomers,
      mergedExisting: plan.summary.mergedExisting,
      largestMerged: plan.summary.largestMerged,
      rowsInserted: plan.inserts.count,
      rowsRelinked: plan.relinks.length,
      quarantined: plan.quarantined.length,
      events: plan.events.count,
      replanned,
      lockHeldMs,
      durationMs: Math.round(performance.now() - started),
      peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
      phases,
    }
  } catch (error) {
    await client.query('rollback').catch(() => {})
    if (options.signal?.aborted === true) throw new Error('Backfill interrupted: nothing written')
    throw error
  } finally {
    options.signal?.removeEventListener('abort', abort)
    await client.end().catch(() => {})
  }
}

// Runs `work` in a transaction of its own holding the lock over all clusters exclusively.
async function holdLock<T>(client: pg.ClientBase, work: () => Promise<T>) {
  await client.query(`begin; set local lock_timeout = '30s'`)
  await client.query(CLUSTERS_LOCK)
  const lockedAt = performance.now()
  const value = await work()
  await client.query('commit')
  return { value, heldMs: Math.round(performance.now() - lockedAt) }
}

// Reads the touched customers, streams the staged orders through the planner in identify's
// order, and (unless a dry run) stages the plan, in the client's open transaction.
async function planFromTable(
  client: pg.ClientBase,
  options: BackfillOptions,
  now: () => Date,
  lap: (phase: keyof Phases) => void,
): Promise<Planned> {
  const state = await readTableState(client)
  lap('state')
  const planner = createBackfillPlanner({
    rows: state.rows,
    blocked: state.blocked,
    pairs: state.pairs,
    limits: options.guard.sharingLimits,
    firstNewId: state.firstNewId,
    now: now(),
  })
  // The planner packed the rows: the objects read go now, before the orders stream in.
  state.rows.length = 0
  const erasure = createErasureFilter(state.erased, options.guard.erasureKey)
  await forEachSortedOrder(client, (order) => {
    const kept = erasure.filter(order)
    if (kept !== null) planner.apply(kept)
  })
  const plan = planner.finish()
  lap('plan')
  if (!options.dryRun) await stagePlan(client, plan)
  lap('stage')
  return { plan, firstNewId: state.firstNewId, mark: state.mark, erased: erasure.counts }
}
