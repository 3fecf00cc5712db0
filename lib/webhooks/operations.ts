/** `GET /api/webhooks` in the API description (lib/http/openapi.ts). */
import * as v from 'valibot'
import { describing, ErrorBodySchema, type Operation } from '../http/openapi.js'
import type { DeliveryReport } from './deliver.js'

const DeliveryReportSchema = describing<DeliveryReport>()(
  v.object({ delivered: v.number(), failed: v.boolean(), skipped: v.boolean() }),
)

/** The operations of ./handler.ts. */
export const WEBHOOKS_OPERATIONS: Operation[] = [
  {
    method: 'get',
    path: '/api/webhooks',
    summary: "Deliver the events due to the store's webhook (Vercel's cron calls it every minute)",
    description:
      'Takes the CRON_SECRET Vercel sends, or an admin key. Each event is POSTed signed by the Standard Webhooks convention, in feed order, at least once; a failure waits 5 s, doubling to an hour, and is retried until it succeeds.',
    security: 'admin',
    responses: {
      200: { description: 'What this run delivered', schema: DeliveryReportSchema },
      404: { description: 'No webhook is configured', schema: ErrorBodySchema },
    },
  },
]
