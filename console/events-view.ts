// Recent events of a customer, newest first. The feed (GET /api/events) has no filter by customer:
// it is read forward from the start in pages of 1,000, kept for the session, and read on from
// where it stopped each time; events that name any of the customer's contacts are shown.
import { callApi } from './api.js'
import { formatTime, h } from './dom.js'
import type { FeedEvent } from './types.js'

const seen: FeedEvent[] = []
let cursor: string | null = null
// Enough for a store's first months; past it the console says it stopped rather than stall.
const MAX_EVENTS = 100_000
const SHOWN = 25

/** Forgets the events read (on sign-out). */
export function forgetEvents(): void {
  seen.length = 0
  cursor = null
}

let reading: Promise<string | null> | null = null

// Reads the feed on from where it stopped; one reader at a time, whoever asks.
function readOn(): Promise<string | null> {
  reading ??= (async () => {
    while (seen.length < MAX_EVENTS) {
      const query =
        cursor === null ? 'limit=1000' : `limit=1000&after=${encodeURIComponent(cursor)}`
      const answer = await callApi<{ events: FeedEvent[]; next: string }>(
        'GET',
        `/api/events?${query}`,
      )
      if (!answer.ok) return answer.message
      seen.push(...answer.data.events)
      cursor = answer.data.next
      if (answer.data.events.length < 1000) break
    }
    return null
  })().finally(() => {
    reading = null
  })
  return reading
}

/** Returns the customer's recent events, newest first, as a list; or the failure in words. */
export async function renderEvents(contactIds: readonly number[]): Promise<HTMLElement> {
  const failure = await readOn()
  if (failure !== null) {
    return h('p', { class: 'error', role: 'alert' }, `Events could not be read: ${failure}`)
  }
  const ids = new Set(contactIds)
  const mine = seen
    .filter((event) =>
      [event.customerId, ...event.contactIds, ...event.absorbedIds].some((id) => ids.has(id)),
    )
    .reverse()
  if (mine.length === 0)
    return h(
      'p',
      { id: 'events-list' },
      'No events are recorded for this customer (rows written before the ledger existed have none).',
    )
  return h(
    'ol',
    { id: 'events-list', class: 'events', 'data-event-count': mine.length },
    ...mine
      .slice(0, SHOWN)
      .map((event) =>
        h(
          'li',
          { 'data-event-id': event.id },
          h('time', { datetime: event.createdAt }, formatTime(event.createdAt)),
          ' ',
          h('strong', {}, describeKind(event)),
          ` — contacts ${event.contactIds.map((id) => `#${id}`).join(', ')}`,
        ),
      ),
  )
}

const JOINED_BY: Record<NonNullable<FeedEvent['joinedBy']>, string> = {
  email: ' by a shared email',
  phoneNumber: ' by a shared phone number',
  both: " by one request's email and phone number",
}

function describeKind(event: FeedEvent): string {
  const by = event.joinedBy === null ? '' : JOINED_BY[event.joinedBy]
  switch (event.kind) {
    case 'customer_created':
      return `customer #${event.customerId} created`
    case 'contact_linked':
      return `contact linked to #${event.customerId}${by}`
    case 'customers_merged':
      return `customers ${event.absorbedIds.map((id) => `#${id}`).join(', ')} merged into #${event.customerId}${by}`
    case 'customer_relinked':
      return `customer #${event.customerId} repaired`
    default:
      return `${event.kind.replaceAll('_', ' ')} (#${event.customerId})`
  }
}
