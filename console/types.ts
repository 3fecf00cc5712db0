// The admin API's answers as JSON, as the console reads them (README, "Admin API"). Fields the
// guard endpoints add later are optional, so the console works before and after them.

/** One contact row of a customer. */
export type Contact = {
  id: number
  email: string | null
  phoneNumber: string | null
  linkPrecedence: 'primary' | 'secondary'
  linkedId: number | null
  createdAt: string
  emailBlocked?: boolean
  phoneNumberBlocked?: boolean
}

/** A pair of identifiers a request brought together when it merged customers. */
export type RequestPair = { email: string; phoneNumber: string; at: string }

/** `GET /api/customers`: identify's consolidated answer and the customer's rows, oldest first. */
export type Customer = {
  contact: {
    primaryContactId: number
    emails: string[]
    phoneNumbers: string[]
    secondaryContactIds: number[]
  }
  contacts: Contact[]
  pairs?: RequestPair[]
}

/** One step of `GET /api/explain`. */
export type ExplainStep = {
  kind: 'shared-email' | 'shared-phone' | 'request-pair' | 'recorded-link'
  from: number
  to: number
  text: string
}

/** `GET /api/explain`. */
export type Explanation = { from: number; to: number; customerId: number; steps: ExplainStep[] }

/** One event of `GET /api/events`: ids and kinds only. */
export type FeedEvent = {
  id: string
  cursor: string
  kind: string
  customerId: number
  contactIds: number[]
  absorbedIds: number[]
  joinedBy: 'email' | 'phoneNumber' | 'both' | null
  requestId: string | null
  createdAt: string
}

/** The kind of identifier a guard endpoint takes. */
export type IdentifierKind = 'email' | 'phoneNumber'

/** A blocked (`store`) or quarantined (`auto`) value. */
export type Blocked = {
  kind: IdentifierKind
  value: string
  reason: 'store' | 'auto'
  createdAt: string
}

/** A customer a block or an erasure splits, and the primaries it splits into. */
export type Split = { primaryContactId: number; into: number[] }

/** `POST /api/blocked-identifiers`. */
export type BlockAnswer = { dryRun: boolean; blocked: Blocked; splits: Split[] }

/** `DELETE /api/blocked-identifiers`. */
export type UnblockAnswer = {
  unblocked: { kind: IdentifierKind; value: string }
  merges: { primaryContactId: number; absorbed: number[] }[]
}

/** `DELETE /api/customers/{id}`. */
export type CustomerErasure = {
  dryRun: boolean
  erased: { contactIds: number[]; emails: string[]; phoneNumbers: string[] }
}

/** `DELETE /api/identifiers`. */
export type IdentifierErasure = {
  dryRun: boolean
  erased: {
    kind: IdentifierKind
    value: string
    contactIds: number[]
    deletedContactIds: number[]
  }
  splits: Split[]
}
