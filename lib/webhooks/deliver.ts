/**
 * Delivering the events feed to the store's webhook: each event POSTed, signed by the Standard
 * Webhooks convention, at least once and in feed order. Delivery state lives in the database
 * (`WebhookDelivery`), so a receiver that is down, or a deliverer that restarts, loses nothing.
 */
import { type SQL, sql } from 'drizzle-orm'
import { Webhook } from 'standardwebhooks'
import { type BackoffSchedule, toRetryDelayMs, WEBHOOK_BACKOFF } from '../core/backoff.js'
import { FEED_START, parseCursor, toCursorText } from '../core/event-cursor.js'
import { type Database, selectRows } from '../db/database.js'
import { type FeedEvent, readEvents } from '../ledger/feed.js'

/** Where and how to deliver. */
export type WebhookConfig = {
  url: string
  /** The Standard Webhooks secret, `whsec_` and base64. */
  secret: string
  /** How long one POST may take before it counts as failed. */
  timeoutMs: number
}

/** What one delivery run did. */
export type DeliveryReport = {
  /** Events the receiver acknowledged (2xx). */
  delivered: number
  /** Whether the run stopped on a failure, to try again at `nextAttemptAt`. */
  failed: boolean
  /** Whether another deliverer held the lease, or nothing was due, so this one did nothing. */
  skipped: boolean
}

/** The clock, identity, patience and transport of a deliverer; tests set them. */
export type DeliveryOptions = {
  /** Who holds the lease; unique per run. */
  owner: string
  now?: () => Date
  batchSize?: number
  backoff?: BackoffSchedule
  fetch?: typeof fetch
}

const RECEIVER = 'default'

/**
 * Delivers the events due, in feed order, until none is left, the receiver fails, or the batch
 * is done. Takes a lease first (one conditional update, so it works on every driver), and every
 * later update names the lease's owner: a deliverer that lost its lease changes nothing more.
 */
export async function deliverDue(
  database: Database,
  config: WebhookConfig,
  options: DeliveryOptions,
): Promise<DeliveryReport> {
  const { owner, now = () => new Date(), batchSize = 50, backoff = WEBHOOK_BACKOFF } = options
  const send = options.fetch ?? fetch
  const webhook = new Webhook(config.secret)
  // Held long enough for a whole batch of POSTs that each time out.
  const leaseMs = batchSize * config.timeoutMs + 10_000
  const started = now()
  // The receiver's row is made on first use; the update, a later statement of the same
  // transaction, sees it.
  const [, leased] = await database.runBatch((db) => [
    db.execute(
      sql`insert into "WebhookDelivery" ("name", "cursor") values (${RECEIVER}, ${toCursorText(FEED_START)})
          on conflict ("name") do nothing`,
    ),
    db.execute(
      sql`update "WebhookDelivery"
          set "leaseOwner" = ${owner}, "leaseUntil" = ${new Date(started.getTime() + leaseMs)},
              "updatedAt" = ${started}
          where "name" = ${RECEIVER}
            and ("leaseUntil" is null or "leaseUntil" < ${started})
            and ("nextAttemptAt" is null or "nextAttemptAt" <= ${started})
          returning "cursor", "failures"`,
    ),
  ])
  const [lease] = toRows<{ cursor: string; failures: number }>(leased)
  if (lease === undefined) return { delivered: 0, failed: false, skipped: true }

  let delivered = 0
  try {
    const events = await readEvents(database, parseCursor(lease.cursor) ?? FEED_START, batchSize)
    for (const event of events) {
      const outcome = await post(send, webhook, config, event, now())
      if (outcome.ok) {
        delivered++
        await runOne(
          database,
          sql`update "WebhookDelivery"
              set "cursor" = ${event.cursor}, "failures" = 0, "nextAttemptAt" = null,
                  "lastStatus" = ${outcome.status}, "lastError" = null, "updatedAt" = ${now()}
              where "name" = ${RECEIVER} and "leaseOwner" = ${owner}`,
        )
        continue
      }
      const failedAt = now()
      const delayMs = toRetryDelayMs(lease.failures + 1, backoff)
      await runOne(
        database,
        sql`update "WebhookDelivery"
            set "failures" = ${lease.failures + 1},
                "nextAttemptAt" = ${new Date(failedAt.getTime() + delayMs)},
                "lastStatus" = ${outcome.status}, "lastError" = ${outcome.error},
                "updatedAt" = ${failedAt}
            where "name" = ${RECEIVER} and "leaseOwner" = ${owner}`,
      )
      return { delivered, failed: true, skipped: false }
    }
    return { delivered, failed: false, skipped: false }
  } finally {
    await runOne(
      database,
      sql`update "WebhookDelivery" set "leaseOwner" = null, "leaseUntil" = null
          where "name" = ${RECEIVER} and "leaseOwner" = ${owner}`,
    )
  }
}

type PostOutcome =
  | { ok: true; status: number }
  | { ok: false; status: number | null; error: string }

// POSTs one event, signed; a 2xx is an acknowledgement, anything else (a timeout too) a failure.
async function post(
  send: typeof fetch,
  webhook: Webhook,
  config: WebhookConfig,
  event: FeedEvent,
  at: Date,
): Promise<PostOutcome> {
  const payload = JSON.stringify({ type: event.kind, timestamp: at.toISOString(), data: event })
  try {
    const response = await send(config.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'webhook-id': event.id,
        'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
        'webhook-signature': webhook.sign(event.id, at, payload),
      },
      body: payload,
      signal: AbortSignal.timeout(config.timeoutMs),
    })
    await response.body?.cancel()
    if (response.ok) return { ok: true, status: response.status }
    return { ok: false, status: response.status, error: `HTTP ${response.status}` }
  } catch (error) {
    const name = error instanceof Error ? error.name : 'Error'
    return { ok: false, status: null, error: name === 'TimeoutError' ? 'timed out' : name }
  }
}

// One statement, in a transaction of its own with JIT off (lib/db/database.ts).
async function runOne(database: Database, query: SQL): Promise<void> {
  await database.runBatch((db) => [db.execute(query)])
}

// Every driver answers `execute` with `{ rows }` (lib/db/database.ts, selectRows).
const toRows = <T>(result: unknown): T[] => (result as { rows?: T[] } | undefined)?.rows ?? []

/** Returns the delivery state, for operators and tests. */
export async function readDeliveryState(database: Database) {
  const [row] = await database.runRead((db) =>
    selectRows<{
      cursor: string
      failures: number
      nextAttemptAt: Date | null
      lastError: string | null
    }>(
      db,
      sql`select "cursor", "failures", "nextAttemptAt", "lastError" from "WebhookDelivery" where "name" = ${RECEIVER}`,
    ),
  )
  return row ?? null
}
