/** The role a row plays in its customer. */
export type LinkPrecedence = 'primary' | 'secondary'

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
