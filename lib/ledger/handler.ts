/**
 * `GET /api/events?after={cursor}&limit={n}`: the ledger's events in feed order (./feed.ts), with
 * the cursor to ask for the next ones. Admin only.
 */
import { toCursorText } from '../core/event-cursor.js'
import type { Database } from '../db/database.js'
import { toJsonResponse } from '../http/answer.js'
import type { AuthMode } from '../http/auth.js'
import { createEndpoint, type Handler, toRejection } from '../http/endpoint.js'
import { parseInput, readQuery } from '../http/validation.js'
import type { Logger } from '../platform/log.js'
import { readEvents } from './feed.js'
import { EventsQuerySchema } from './query.js'

/** Returns the events feed handler. */
export function createEventsHandler(deps: {
  database: () => Promise<Database>
  auth: AuthMode
  logger: Logger
}): Handler {
  return createEndpoint({
    name: 'events',
    methods: ['GET'],
    auth: deps.auth,
    logger: deps.logger,
    async handle(request) {
      const query = parseInput(EventsQuerySchema, readQuery(request))
      if (!query.ok) return toRejection(query.error)
      const { after, limit } = query.value
      const events = await readEvents(await deps.database(), after, limit)
      // Where to ask next: after the last event returned, or where this answer started.
      const next = events.at(-1)?.cursor ?? toCursorText(after)
      return { response: toJsonResponse({ events, next }), outcome: 'read' }
    },
  })
}
