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
}

/** A request's normalised identifiers; at least one of them is present. */
export type Identifiers = {
  email: string | null
  phoneNumber: string | null
}

/** The consolidated customer returned by `POST /identify`. */
export type IdentifyResponse = {
  contact: {
    primaryContactId: number
    emails: string[]
    phoneNumbers: string[]
    secondaryContactIds: number[]
  }
}
