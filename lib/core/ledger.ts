/**
 * The evidence ledger's rules: which events a change records. Pure, like the linking rules it
 * describes; the store writes the events in the same transaction as the change.
 *
 * 1. A request that creates a customer records `customer_created`.
 * 2. A request that joins customers records `customers_merged`: the survivor, the primaries it
 *    absorbed, which of the request's identifiers joined them, and the evidence itself (the
 *    request's email and phone number), kept even when no row is inserted.
 * 3. A request that repairs a customer without joining another (a secondary whose primary was
 *    deleted becomes primary, or a chain left by an older writer is flattened) records
 *    `customer_relinked`.
 * 4. A request that adds a row to a known customer records `contact_linked`, after any merge.
 * 5. Events carry ids and kinds only; the evidence pair is kept apart from the published payload.
 */
import type { KeyedIdentifiers } from './contact.js'
import type { LinkPlan } from './linking.js'

/** Every kind of event; later capabilities add theirs here. */
export const EVENT_KINDS = [
  'customer_created',
  'contact_linked',
  'customers_merged',
  'customer_relinked',
  // The guard (lib/guard): `joinedBy` names the kind of identifier the change was about.
  'identifier_blocked',
  'identifier_quarantined',
  'identifier_unblocked',
  'identifier_erased',
  'customer_split',
  'customer_erased',
] as const

/** The kind of a ledger event. */
export type EventKind = (typeof EVENT_KINDS)[number]

/** Which identifiers of a request matched the customer it joined. */
export type JoinedBy = 'email' | 'phoneNumber' | 'both'

/** The row a request inserts, whose id the database assigns in the same transaction. */
export const INSERTED = 'inserted'

/** A contact id, or the row the same change inserts. */
export type ContactRef = number | typeof INSERTED

/** An event to record with a change; `at` and the request id are the change's own. */
export type PlannedEvent = {
  kind: EventKind
  /** The customer's primary after the change. */
  primaryId: ContactRef
  /** Every contact the event names: the primary, the absorbed primaries, the inserted row. */
  contactIds: ContactRef[]
  /** The primaries a merge absorbed into `primaryId`. */
  absorbedIds: number[]
  joinedBy: JoinedBy | null
  /** The identifiers that joined customers (rule 2); personal data, never published. */
  evidence: KeyedIdentifiers | null
}

/** Returns the events that record `plan`, carried out for `request` (rules 1 to 4). */
export function toLedgerEvents(plan: LinkPlan, request: KeyedIdentifiers): PlannedEvent[] {
  if (plan.primaryId === null) {
    return [event('customer_created', INSERTED, [INSERTED], [], null, null)]
  }
  const primaryId = plan.primaryId
  const joinedBy = toJoinedBy(plan, request)
  const events: PlannedEvent[] = []
  const absorbedIds = plan.rootIds.filter((id) => id !== primaryId)
  if (absorbedIds.length > 0) {
    events.push(
      event(
        'customers_merged',
        primaryId,
        [primaryId, ...absorbedIds],
        absorbedIds,
        joinedBy,
        request,
      ),
    )
  } else if (plan.relinkIds.length > 0 || plan.promotesPrimary) {
    events.push(
      event('customer_relinked', primaryId, [primaryId, ...plan.relinkIds], [], null, null),
    )
  }
  if (plan.insert !== null) {
    events.push(event('contact_linked', primaryId, [primaryId, INSERTED], [], joinedBy, null))
  }
  return events
}

function event(
  kind: EventKind,
  primaryId: ContactRef,
  contactIds: ContactRef[],
  absorbedIds: number[],
  joinedBy: JoinedBy | null,
  evidence: KeyedIdentifiers | null,
): PlannedEvent {
  return { kind, primaryId, contactIds, absorbedIds, joinedBy, evidence }
}

// Which of the request's identifiers the customer's existing rows already held.
function toJoinedBy(plan: LinkPlan, request: KeyedIdentifiers): JoinedBy | null {
  const hasEmail =
    request.emailKey !== null && plan.rows.some((row) => row.emailKey === request.emailKey)
  const hasPhone =
    request.phoneKey !== null && plan.rows.some((row) => row.phoneKey === request.phoneKey)
  if (hasEmail && hasPhone) return 'both'
  if (hasEmail) return 'email'
  return hasPhone ? 'phoneNumber' : null
}
