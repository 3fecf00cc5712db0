/**
 * The events feed: the ledger's events in a stable order, published only once no transaction that
 * could still commit an earlier one is running, so a consumer that follows the cursor never misses
 * an event and never sees one twice, even when transactions commit out of the order they began.
 */
import { sql } from 'drizzle-orm'
import { type EventCursor, toCursorText } from '../core/event-cursor.js'
import type { EventKind, JoinedBy } from '../core/ledger.js'
import { type Database, selectRows } from '../db/database.js'

/** One published event: ids and kinds, never an email or a phone number. */
export type FeedEvent = {
  id: string
  cursor: string
  kind: EventKind
  customerId: number
  contactIds: number[]
  absorbedIds: number[]
  joinedBy: JoinedBy | null
  requestId: string | null
  createdAt: Date
}

type EventRow = Omit<FeedEvent, 'id' | 'cursor' | 'createdAt'> & {
  id: string
  txid: string
  createdAt: Date | string
}

/**
 * Returns up to `limit` events after `after`, in the feed's order, in one statement. Events of a
 * transaction id at or past the oldest one still running are held back: that transaction may yet
 * commit events that sort before them (`pg_snapshot_xmin`). Transaction ids are cluster-wide, so a
 * long transaction anywhere on the server holds the feed back until it ends.
 */
export async function readEvents(
  database: Database,
  after: EventCursor,
  limit: number,
): Promise<FeedEvent[]> {
  const rows = await database.runRead((db) =>
    selectRows<EventRow>(
      db,
      sql`select "id"::text as "id", "txid"::text as "txid", "kind", "primaryId" as "customerId",
            "contactIds", "absorbedIds", "joinedBy", "requestId", "createdAt"
          from "ContactEvent"
          where ("txid", "id") > (${after.txid}::xid8, ${after.id}::bigint)
            and "txid" < pg_snapshot_xmin(pg_current_snapshot())
          order by "txid", "id"
          limit ${limit}`,
    ),
  )
  return rows.map(({ txid, id, createdAt, ...event }) => ({
    id: `evt_${id}`,
    cursor: toCursorText({ txid, id }),
    ...event,
    createdAt: new Date(createdAt),
  }))
}
