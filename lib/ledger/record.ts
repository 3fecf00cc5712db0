/**
 * Writing the ledger: the statement that records a change's events (lib/core/ledger.ts), built
 * to run in the same batch, and so the same transaction, as the change itself.
 */
import { type SQL, sql } from 'drizzle-orm'
import { type ContactRef, INSERTED, type PlannedEvent } from '../core/ledger.js'
import { type BatchStatement, type Db, toSqlArray } from '../db/database.js'
import { contactEvent } from '../db/schema.js'

// The id the same transaction's insert into "Contact" was given: the session's last value of
// its sequence, so no round trip is needed to learn it first.
const insertedContactId = sql`currval(pg_get_serial_sequence('"Contact"', 'id'))::integer`

const toRef = (ref: ContactRef): SQL | number => (ref === INSERTED ? insertedContactId : ref)

function toRefArray(refs: readonly ContactRef[]): SQL {
  const known = refs.filter((ref): ref is number => ref !== INSERTED)
  const array = toSqlArray(known, 'integer')
  return refs.includes(INSERTED) ? sql`array_append(${array}, ${insertedContactId})` : array
}

/** What every event of one change shares: when it happened, and which request made it. */
export type ChangeContext = { at: Date; requestId: string | null }

/**
 * Returns the statement that records `events`, to run after the change's own statements in the
 * same batch, or null when there is nothing to record.
 */
export function buildRecordEvents(
  db: Db,
  events: readonly PlannedEvent[],
  context: ChangeContext,
): BatchStatement | null {
  if (events.length === 0) return null
  return db.insert(contactEvent).values(
    events.map((event) => ({
      kind: event.kind,
      primaryId: toRef(event.primaryId),
      contactIds: toRefArray(event.contactIds),
      absorbedIds: toSqlArray(event.absorbedIds, 'integer'),
      joinedBy: event.joinedBy,
      evidenceEmail: event.evidence?.email ?? null,
      evidencePhoneNumber: event.evidence?.phoneNumber ?? null,
      evidenceEmailKey: event.evidence?.emailKey ?? null,
      evidencePhoneKey: event.evidence?.phoneKey ?? null,
      requestId: context.requestId,
      createdAt: context.at,
    })),
  )
}
