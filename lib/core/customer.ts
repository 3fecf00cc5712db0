/**
 * A customer as the service describes it, from its rows as read: the consolidated answer identify
 * gives, and the rows themselves. Pure.
 */
import { findBuiltInRule, type KeyRef } from './blocklist.js'
import type { ContactRow, IdentifyResponse } from './contact.js'
import { planLinks, toIdentifyResponse } from './linking.js'

/** One contact of a customer, as the admin API lists it, with which of its values are blocked. */
export type ContactView = Pick<
  ContactRow,
  'id' | 'email' | 'phoneNumber' | 'linkPrecedence' | 'linkedId' | 'createdAt'
> & { emailBlocked: boolean; phoneNumberBlocked: boolean }

/** A request pair the ledger recorded among a customer's values: evidence that joins them. */
export type PairView = { email: string; phoneNumber: string; at: Date }

/** What the admin API shows beside a customer's rows: blocked keys and recorded pairs. */
export type CustomerEvidence = {
  /** Whether a key is blocked (a built-in rule, the store's list or a quarantine). */
  isBlocked: (ref: KeyRef) => boolean
  pairs: PairView[]
}

/** A customer: identify's consolidated `contact`, its rows oldest first, and its request pairs. */
export type CustomerView = IdentifyResponse & { contacts: ContactView[]; pairs: PairView[] }

const NO_EVIDENCE: CustomerEvidence = { isBlocked: () => false, pairs: [] }

// Nothing is inserted for a request without identifiers, so the plan's clock is never read.
const UNUSED_CLOCK = new Date(0)
const NO_IDENTIFIERS = { email: null, phoneNumber: null, emailKey: null, phoneKey: null }

/**
 * Returns the customer `cluster` (rows as identify reads them) forms: the answer identify would
 * give for it, which joins a cluster an older writer left split, as identify's next write would.
 * Returns null for an empty cluster.
 */
export function toCustomerView(
  cluster: readonly ContactRow[],
  evidence: CustomerEvidence = NO_EVIDENCE,
): CustomerView | null {
  if (cluster.length === 0) return null
  const plan = planLinks(cluster, NO_IDENTIFIERS, UNUSED_CLOCK)
  const isBlocked = (kind: KeyRef['kind'], key: string | null) =>
    key !== null && (findBuiltInRule({ kind, key }) !== null || evidence.isBlocked({ kind, key }))
  const contacts = cluster.map((row) => ({
    id: row.id,
    email: row.email,
    phoneNumber: row.phoneNumber,
    linkPrecedence: row.linkPrecedence,
    linkedId: row.linkedId,
    createdAt: row.createdAt,
    emailBlocked: isBlocked('email', row.emailKey),
    phoneNumberBlocked: isBlocked('phoneNumber', row.phoneKey),
  }))
  return { ...toIdentifyResponse(plan, null), contacts, pairs: evidence.pairs }
}
