/** The roles a row plays in its customer: the oldest row is `primary`, every other `secondary`. */
export const LINK_PRECEDENCES = ['primary', 'secondary'] as const

/** The role a row plays in its customer. */
export type LinkPrecedence = (typeof LINK_PRECEDENCES)[number]

/** A live `Contact` row as the linking core sees it: identifiers, link and age. */
export type ContactRow = {
  id: number
  email: string | null
  phoneNumber: string | null
  linkedId: number | null
  linkPrecedence: LinkPrecedence
  createdAt: Date
} & MatchKeys

/** What linking compares: each identifier's match key (lib/guard/match-keys.ts), or null. */
export type MatchKeys = {
  emailKey: string | null
  phoneKey: string | null
}

/** The two kinds of identifier, as the API names them. */
export const IDENTIFIER_KINDS = ['email', 'phoneNumber'] as const

/** A kind of identifier. */
export type IdentifierKind = (typeof IDENTIFIER_KINDS)[number]

/** A request's normalised identifiers; at least one of them is present. */
export type Identifiers = {
  email: string | null
  phoneNumber: string | null
}

/** A request's identifiers with their match keys. */
export type KeyedIdentifiers = Identifiers & MatchKeys

/** Keys identifiers by their stored form: matching without a guard, as tests of the rules do. */
export const keyedAsStored = (identifiers: Identifiers): KeyedIdentifiers => ({
  ...identifiers,
  emailKey: identifiers.email,
  phoneKey: identifiers.phoneNumber,
})

/** The consolidated customer returned by `POST /identify`. */
export type IdentifyResponse = {
  contact: {
    primaryContactId: number
    emails: string[]
    phoneNumbers: string[]
    secondaryContactIds: number[]
  }
}
