/**
 * `npm run backfill`: reads a file of past orders, plans in memory what identify would have made
 * of them (lib/core/backfill.ts), and writes it in one transaction under the lock over all
 * clusters, or, in a dry run, only reports it (docs/decisions/014-backfill.md).
 */
import { randomUUID } from 'node:crypto'
import type { Readable } from 'node:stream'
import pg from 'pg'
import { type BackfillOrder, type BackfillPlan, planBackfill } from '../core/backfill.js'
import { findBuiltInRule, type KeyRef } from '../core/blocklist.js'
import { CONNECT_TIMEOUT_MS } from '../db/database.js'
import { toDirectUrl } from '../db/migrate.js'
import type { GuardConfig } from '../guard/config.js'
import { toKeyVersion } from '../guard/match-keys.js'
import { toErasureHash } from '../guard/writes.js'
import { type InputFormat, type RejectedLine, readOrders } from './input.js'
import { CLUSTERS_LOCK, readTableState, reserveIds, writeBackfill } from './store.js'

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
  /** Tests: runs inside the transaction after the writes, before the commit. */
  beforeCommit?: (client: pg.ClientBase) => Promise<void>
}

/** Where a run is. */
export type BackfillPhase = 'reading' | 'locking' | 'planning' | 'writing' | 'done'

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
  /** How long the lock over all clusters was held (0 in a dry run). */
  lockHeldMs: number
  durationMs: number
  /** Peak resident memory of the process, in MiB. */
  peakRssMiB: number
  /** Where the time went, in milliseconds. */
  phases: { read: number; state: number; plan: number; write: number }
}

/** Runs a backfill; throws BackfillInputError for an unreadable file, or a database error. */
export async function runBackfill(options: BackfillOptions): Promise<BackfillReport> {
  const started = performance.now()
  const now = options.now ?? (() => new Date())
  options.onProgress?.({ phase: 'reading', lines: 0 })
  const read = await readOrders(options.input, {
    format: options.format,
    strict: options.strict,
    matchKeys: options.guard.matchKeys,
    onRecord: (lines) => options.onProgress?.({ phase: 'reading', lines }),
  })
  const orders = sortOrders(read.orders)
  const phases = { read: 0, state: 0, plan: 0, write: 0 }
  let mark = started
  const lap = (phase: keyof typeof phases) => {
    const at = performance.now()
    phases[phase] = Math.round(at - mark)
    mark = at
  }
  lap('read')
  options.onProgress?.({ phase: options.dryRun ? 'planning' : 'locking', lines: orders.length })

  const client = new pg.Client({
    connectionString: toDirectUrl(options.url),
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
  })
  client.on('error', () => {})
  await client.connect()
  // Ctrl-C: closing the connection makes the server roll the transaction back.
  const abort = () => void client.end().catch(() => {})
  options.signal?.addEventListener('abort', abort, { once: true })
  let lockedAt = 0
  try {
    options.signal?.throwIfAborted()
    // A dry run reads one snapshot; a real run reads under the lock, which is held to the commit.
    await client.query(
      `begin isolation level ${options.dryRun ? 'repeatable read' : 'read committed'};
       set local jit = off; set local statement_timeout = 0; set local lock_timeout = '30s'`,
    )
    if (!options.dryRun) {
      await client.query(CLUSTERS_LOCK)
      lockedAt = performance.now()
    }
    options.onProgress?.({ phase: 'planning', lines: orders.length })
    const state = await readTableState(client, toReadKeys(orders))
    lap('state')
    const erasure = dropErased(orders, state.erased, options.guard.erasureKey)
    const plan = planBackfill(
      {
        rows: state.rows,
        blocked: state.blocked,
        pairs: state.pairs,
        limits: options.guard.sharingLimits,
        firstNewId: state.firstNewId,
        now: now(),
      },
      erasure.orders,
    )
    lap('plan')
    if (options.dryRun) {
      await client.query('rollback')
    } else {
      options.onProgress?.({ phase: 'writing', lines: orders.length })
      const first = plan.inserts.length > 0 ? await reserveIds(client, plan.inserts.length) : 0
      if (plan.inserts.length > 0 && first < state.firstNewId) {
        throw new Error('Invariant broken: the Contact id sequence is behind the table')
      }
      await writeBackfill(client, {
        ...renumber(plan, state.firstNewId, first),
        keyVersion: toKeyVersion(options.guard.matchKeys),
        requestId: `backfill-${randomUUID()}`,
        now: now(),
      })
      await options.beforeCommit?.(client)
      await client.query('commit')
      lap('write')
    }
    options.onProgress?.({ phase: 'done', lines: orders.length })
    return {
      dryRun: options.dryRun,
      ordersRead: orders.length,
      rejected: read.rejected,
      rejectedCount: read.rejectedCount,
      unlinkableLines: plan.unlinkableLines.slice(0, 20),
      unlinkableCount: plan.unlinkableLines.length,
      erasedIdentifiers: erasure.identifiers,
      erasedOrders: erasure.emptied,
      newCustomers: plan.summary.newCustomers,
      mergedExisting: plan.summary.mergedExisting,
      largestMerged: plan.summary.largestMerged,
      rowsInserted: plan.inserts.length,
      rowsRelinked: plan.relinks.length,
      quarantined: plan.quarantined.length,
      events: plan.events.length,
      lockHeldMs: lockedAt === 0 ? 0 : Math.round(performance.now() - lockedAt),
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

// By `createdAt`, then line: the order identify would have seen them in. Files are mostly in
// order already, which is checked first.
function sortOrders(orders: BackfillOrder[]): BackfillOrder[] {
  const isSorted = orders.every((order, index) => {
    const before = orders[index - 1]
    return (
      before === undefined ||
      before.at < order.at ||
      (before.at === order.at && before.line < order.line)
    )
  })
  return isSorted ? orders : orders.sort((a, b) => a.at - b.at || a.line - b.line)
}

// The keys a read must start from: those that may link (a built-in blocked value, held by any
// number of strangers, never joins anything).
function* toReadKeys(orders: readonly BackfillOrder[]): Generator<KeyRef> {
  const seen = { email: new Set<string>(), phoneNumber: new Set<string>() }
  for (const order of orders) {
    for (const [kind, key] of [
      ['email', order.emailKey],
      ['phoneNumber', order.phoneKey],
    ] as const) {
      if (key === null || seen[kind].has(key)) continue
      seen[kind].add(key)
      if (findBuiltInRule({ kind, key }) === null) yield { kind, key }
    }
  }
}

// Erased values stay erased: an identifier erased after the order was placed is dropped from it
// (README, "The guard"); an order left with none is skipped.
function dropErased(
  orders: BackfillOrder[],
  erased: ReadonlyMap<string, number>,
  erasureKey: string,
) {
  if (erased.size === 0) return { orders, identifiers: 0, emptied: 0 }
  const hashes = new Map<string, string>()
  const erasedAfter = (ref: KeyRef, at: number) => {
    const text = `${ref.kind}:${ref.key}`
    let hash = hashes.get(text)
    if (hash === undefined) {
      hash = toErasureHash(ref, erasureKey)
      hashes.set(text, hash)
    }
    const erasedAt = erased.get(`${ref.kind}:${hash}`)
    return erasedAt !== undefined && at < erasedAt
  }
  let identifiers = 0
  let emptied = 0
  const kept: BackfillOrder[] = []
  for (const order of orders) {
    let next = order
    if (order.emailKey !== null && erasedAfter({ kind: 'email', key: order.emailKey }, order.at)) {
      next = { ...next, email: null, emailKey: null }
      identifiers++
    }
    if (
      order.phoneKey !== null &&
      erasedAfter({ kind: 'phoneNumber', key: order.phoneKey }, order.at)
    ) {
      next = { ...next, phoneNumber: null, phoneKey: null }
      identifiers++
    }
    if (next.emailKey === null && next.phoneKey === null) emptied++
    else kept.push(next)
  }
  return { orders: kept, identifiers, emptied }
}

// Gives the planned rows the ids the sequence handed out: `first` onwards, in the same order.
function renumber(plan: BackfillPlan, firstNewId: number, first: number): BackfillPlan {
  const shift = first - firstNewId
  // Nobody took an id since the table was read: the planned ids are the real ones.
  if (shift === 0) return plan
  const id = (value: number) => (value >= firstNewId ? value + shift : value)
  const link = (value: number | null) => (value === null ? null : id(value))
  // In place: a copy of a million rows would double the plan's memory at its peak.
  for (const row of plan.inserts) {
    row.id = id(row.id)
    row.linkedId = link(row.linkedId)
  }
  for (const relink of plan.relinks) relink.linkedId = link(relink.linkedId)
  for (const event of plan.events) {
    event.primaryId = id(event.primaryId)
    event.contactIds = event.contactIds.map(id)
    event.absorbedIds = event.absorbedIds.map(id)
  }
  return plan
}
