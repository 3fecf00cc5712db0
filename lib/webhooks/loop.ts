/** `npm start`'s background deliverer: a delivery run every few seconds, until stopped. */
import { randomUUID } from 'node:crypto'
import type { Database } from '../db/database.js'
import { describeError } from '../db/errors.js'
import type { Logger } from '../platform/log.js'
import { deliverDue, type WebhookConfig } from './deliver.js'

/** Starts delivering every `intervalMs`; the returned function stops it after the run under way. */
export function startDeliveryLoop(
  database: Database,
  config: WebhookConfig,
  { intervalMs, logger }: { intervalMs: number; logger: Logger },
): () => Promise<void> {
  let isStopped = false
  let running: Promise<void> = Promise.resolve()
  const owner = `loop:${randomUUID()}`
  const tick = async () => {
    try {
      const report = await deliverDue(database, config, { owner })
      if (report.delivered > 0 || report.failed) logger.info({ msg: 'webhooks', ...report })
    } catch (error) {
      // The database is down or busy: the next tick tries again; nothing was lost.
      logger.error({ msg: 'webhooks failed', error: describeError(error) })
    }
  }
  const timer = setInterval(() => {
    if (!isStopped) running = running.then(tick)
  }, intervalMs)
  return async () => {
    isStopped = true
    clearInterval(timer)
    await running
  }
}
