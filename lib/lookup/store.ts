/** Reading one customer without writing: by an identifier, or by any of its contact ids. */
import { sql } from 'drizzle-orm'
import type { ContactRow } from '../core/contact.js'
import type { Database } from '../db/database.js'
import { selectCluster } from '../identify/cluster-read.js'
import type { CustomerQuery } from './query.js'

/** The reads the lookup needs; one statement each. */
export type CustomerStore = {
  /** Returns the live rows of the customer `query` names, oldest first; none when no match. */
  readCustomer(query: CustomerQuery): Promise<ContactRow[]>
}

/**
 * Returns a store over `database`. A contact id is read as the cluster of that row's own
 * identifiers, taken in the same statement: every live row holds one, and identify's read of it
 * reaches the row's whole customer, whichever row of it was primary before a merge.
 */
export function createCustomerStore(database: Database): CustomerStore {
  return {
    readCustomer: async ({ email, phoneNumber, contactId }) => {
      if (contactId === undefined) {
        return selectCluster(database.db, {
          email: email ?? null,
          phoneNumber: phoneNumber ?? null,
        })
      }
      const ofContact = (column: 'email' | 'phoneNumber') =>
        sql`(select ${sql.identifier(column)} from "Contact" where "id" = ${contactId} and "deletedAt" is null)`
      return database.runRead((db) =>
        selectCluster(db, { email: ofContact('email'), phoneNumber: ofContact('phoneNumber') }),
      )
    },
  }
}
