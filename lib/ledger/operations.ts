/** `GET /api/events` in the API description (lib/http/openapi.ts). */
import * as v from 'valibot'
import { EVENT_KINDS } from '../core/ledger.js'
import { describing, ErrorBodySchema, type Operation } from '../http/openapi.js'
import type { FeedEvent } from './feed.js'
import { EventsQuerySchema } from './query.js'

/** One published event: ids and kinds, never an email or a phone number. */
export const FeedEventSchema = describing<FeedEvent>()(
  v.object({
    id: v.pipe(v.string(), v.description('Stable and unique: `evt_` and the event number')),
    cursor: v.pipe(v.string(), v.description('Pass as `after` to read the events after this one')),
    kind: v.picklist(EVENT_KINDS),
    customerId: v.pipe(v.number(), v.description("The customer's primary after the change")),
    contactIds: v.array(v.number()),
    absorbedIds: v.pipe(v.array(v.number()), v.description('The primaries a merge absorbed')),
    joinedBy: v.nullable(v.picklist(['email', 'phoneNumber', 'both'])),
    requestId: v.nullable(v.string()),
    createdAt: v.pipe(v.string(), v.isoTimestamp()),
  }),
)

/** The operations of ./handler.ts. */
export const LEDGER_OPERATIONS: Operation[] = [
  {
    method: 'get',
    path: '/api/events',
    summary: "The ledger's events in a stable order, from a cursor",
    description:
      'Follow `next` to read on: a consumer never misses an event and never sees one twice, even when transactions commit in another order than they began, because an event is published only once no transaction that could still commit an earlier one is running.',
    security: 'admin',
    query: EventsQuerySchema,
    responses: {
      200: {
        description: 'Up to `limit` events, and the cursor to ask for the next',
        schema: v.object({ events: v.array(FeedEventSchema), next: v.string() }),
      },
      400: { description: 'A malformed cursor or limit', schema: ErrorBodySchema },
    },
  },
]
