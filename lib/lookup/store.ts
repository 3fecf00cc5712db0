/** Reading one customer without writing: by an identifier, or by any of its contact ids. */
import type { ContactRow } from '../core/contact.js'
import type { Database } from '../db/database.js'
import { DEFAULT_MATCH_KEYS, type MatchKeyConfig, toMatchKeys } from '../guard/match-keys.js'
import { selectCluster, throughContact, throughKeys } from '../identify/cluster-read.js'
import type { CustomerQuery } from './query.js'

/** The reads the lookup needs; one statement each. */
export type CustomerStore = {
  /** Returns the live rows of the customer `query` names, oldest first; none when no match. */
  readCustomer(query: CustomerQuery): Promise<ContactRow[]>
}

/**
 * Returns a store over `database`. An identifier is read by its match key under `matchKeys`, blocked
 * or not: a blocked value still names the rows that hold it. A contact id reaches the row's whole
 * customer, whichever row of it was primary before a merge.
 */
export function createCustomerStore(
  database: Database,
  matchKeys: MatchKeyConfig = DEFAULT_MATCH_KEYS,
): CustomerStore {
  return {
    readCustomer: ({ email, phoneNumber, contactId }) =>
      database.runRead((db) =>
        selectCluster(
          db,
          contactId === undefined
            ? throughKeys(
                toMatchKeys({ email: email ?? null, phoneNumber: phoneNumber ?? null }, matchKeys),
              )
            : throughContact(contactId),
        ),
      ),
  }
}
