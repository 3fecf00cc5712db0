/** `GET /api/health` in the API description (lib/http/openapi.ts). */
import * as v from 'valibot'
import type { Operation } from '../http/openapi.js'

const HealthSchema = v.object({
  status: v.picklist(['ok', 'unavailable']),
  database: v.object({
    driver: v.optional(v.picklist(['neon-http', 'node-postgres', 'pglite'])),
    reachable: v.boolean(),
  }),
})

/** The operations of ./handler.ts. */
export const HEALTH_OPERATIONS: Operation[] = [
  {
    method: 'get',
    path: '/api/health',
    summary: 'Whether the database answers; nothing about where it is',
    security: 'none',
    responses: {
      200: { description: 'The database answers', schema: HealthSchema },
      503: { description: 'The database does not answer', schema: HealthSchema },
    },
  },
]
