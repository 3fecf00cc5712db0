/**
 * `GET /api/webhooks`: delivers the events due to the store's webhook (./deliver.ts) and says what
 * it did. Vercel's cron calls it every minute (vercel.json) with `CRON_SECRET`; admins may too.
 */
import { randomUUID } from 'node:crypto'
import type { Database } from '../db/database.js'
import { toJsonResponse } from '../http/answer.js'
import type { AuthMode } from '../http/auth.js'
import { createEndpoint, type Handler, toRejection } from '../http/endpoint.js'
import type { Logger } from '../platform/log.js'
import { deliverDue, type WebhookConfig } from './deliver.js'

/** Returns the delivery handler; with no webhook configured, it says so with a 404. */
export function createWebhooksHandler(deps: {
  database: () => Promise<Database>
  config: WebhookConfig | null
  auth: AuthMode
  logger: Logger
}): Handler {
  return createEndpoint({
    name: 'webhooks',
    methods: ['GET', 'POST'],
    auth: deps.auth,
    logger: deps.logger,
    async handle() {
      if (deps.config === null) {
        return toRejection({
          status: 404,
          code: 'not_configured',
          message: 'No webhook is configured (WEBHOOK_URL, WEBHOOK_SECRET)',
        })
      }
      const report = await deliverDue(await deps.database(), deps.config, {
        owner: `cron:${randomUUID()}`,
      })
      return { response: toJsonResponse(report), outcome: report.failed ? 'retrying' : 'delivered' }
    },
  })
}
