/** The store's webhook as the environment configures it, and the delivery after a response. */
import { randomUUID } from 'node:crypto'
import type { Database } from '../db/database.js'
import { describeError } from '../db/errors.js'
import type { Env } from '../platform/env.js'
import type { Logger } from '../platform/log.js'
import type { WebhookConfig } from './deliver.js'

/** The store's webhook as the environment configures it, or null when it does not. */
export function toWebhookConfig(env: Env): WebhookConfig | null {
  if (env.WEBHOOK_URL === undefined || env.WEBHOOK_SECRET === undefined) return null
  return { url: env.WEBHOOK_URL, secret: env.WEBHOOK_SECRET, timeoutMs: env.WEBHOOK_TIMEOUT_MS }
}

// On Vercel, a change's events go out right after its answer, in the function's own time
// (waitUntil keeps it alive); the cron delivers whatever that misses.
/**
 * Returns what to call after a change's answer: it delivers what is due, kept alive on Vercel by
 * `waitUntil`. @vercel/functions loads here, when a webhook is configured, not in every function's
 * cold start; by a request's first change it has loaded, so `waitUntil` runs within that request.
 */
export function createDeliveryAfterResponse(
  database: () => Promise<Database>,
  webhook: WebhookConfig,
  logger: Logger,
): () => void {
  const functions = import('@vercel/functions')
  return () => {
    const delivery = database()
      .then(async (opened) => {
        // Loaded on the first delivery: identify's cold start does not pay for the signing library.
        const { deliverDue } = await import('./deliver.js')
        return deliverDue(opened, webhook, { owner: `after:${randomUUID()}` })
      })
      .catch((error: unknown) =>
        logger.error({ msg: 'webhooks failed', error: describeError(error) }),
      )
    functions
      .then(({ waitUntil }) => waitUntil(delivery))
      .catch((error: unknown) =>
        logger.error({ msg: 'webhooks failed', error: describeError(error) }),
      )
  }
}
