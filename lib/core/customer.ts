/**
 * A customer as the service describes it, from its rows as read: the consolidated answer identify
 * gives, and the rows themselves. Pure.
 */
import type { ContactRow, IdentifyResponse } from './contact.js'
import { planLinks, toIdentifyResponse } from './linking.js'

/** One contact of a customer, as the admin API lists it. */
export type ContactView = Pick<
  ContactRow,
  'id' | 'email' | 'phoneNumber' | 'linkPrecedence' | 'linkedId' | 'createdAt'
>

/** A customer: identify's consolidated `contact`, and its rows oldest first. */
export type CustomerView = IdentifyResponse & { contacts: ContactView[] }

// Nothing is inserted for a request without identifiers, so the plan's clock is never read.
const UNUSED_CLOCK = new Date(0)
const NO_IDENTIFIERS = { email: null, phoneNumber: null, emailKey: null, phoneKey: null }

/**
 * Returns the customer `cluster` (rows as identify reads them) forms: the answer identify would
 * give for it, which joins a cluster an older writer left split, as identify's next write would.
 * Returns null for an empty cluster.
 */
export function toCustomerView(cluster: readonly ContactRow[]): CustomerView | null {
  if (cluster.length === 0) return null
  const plan = planLinks(cluster, NO_IDENTIFIERS, UNUSED_CLOCK)
  const contacts = cluster.map(
    ({ id, email, phoneNumber, linkPrecedence, linkedId, createdAt }) => ({
      id,
      email,
      phoneNumber,
      linkPrecedence,
      linkedId,
      createdAt,
    }),
  )
  return { ...toIdentifyResponse(plan, null), contacts }
}
