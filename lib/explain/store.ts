/** Reading what explain needs: a contact's customer, and the recorded pairs among its identifiers. */
import { sql } from 'drizzle-orm'
import type { ContactRow } from '../core/contact.js'
import type { RequestPair } from '../core/explain.js'
import { type Database, selectRows, toSqlArray } from '../db/database.js'
import { createCustomerStore } from '../lookup/store.js'

/** The reads explain needs; one statement each. */
export type ExplainStore = {
  /** The live rows of the customer `contactId` belongs to, oldest first; none when unknown. */
  readCustomer(contactId: number): Promise<ContactRow[]>
  /** The pairs recorded by merges whose email and phone number both belong to `rows`. */
  readPairs(rows: readonly ContactRow[]): Promise<RequestPair[]>
}

type PairRow = {
  email: string
  phoneNumber: string
  at: Date | string
  requestId: string | null
  primaryId: number
  absorbedIds: number[]
}

/**
 * Returns a store over `database`, reading through the lookup's own statement for customers.
 * Explain follows match keys, so its rows and pairs carry their keys in place of the values.
 */
export function createExplainStore(database: Database): ExplainStore {
  const customers = createCustomerStore(database)
  return {
    readCustomer: async (contactId) =>
      (await customers.readCustomer({ contactId })).map((row) => ({
        ...row,
        email: row.emailKey,
        phoneNumber: row.phoneKey,
      })),
    async readPairs(rows) {
      const emails = [...new Set(rows.flatMap((row) => (row.email === null ? [] : [row.email])))]
      const phones = [
        ...new Set(rows.flatMap((row) => (row.phoneNumber === null ? [] : [row.phoneNumber]))),
      ]
      // Each side found by its partial index; a pair is kept only if both sides are the customer's.
      const found = await database.runRead((db) =>
        selectRows<PairRow>(
          db,
          sql`select "evidenceEmailKey" as "email", "evidencePhoneKey" as "phoneNumber",
                "createdAt" as "at", "requestId", "primaryId", "absorbedIds"
              from "ContactEvent"
              where "kind" = 'customers_merged'
                and ("evidenceEmailKey" = any(${toSqlArray(emails, 'text')})
                  or "evidencePhoneKey" = any(${toSqlArray(phones, 'text')}))
              order by "id"`,
        ),
      )
      const emailSet = new Set(emails)
      const phoneSet = new Set(phones)
      return found
        .filter((pair) => emailSet.has(pair.email) && phoneSet.has(pair.phoneNumber))
        .map((pair) => ({ ...pair, at: new Date(pair.at) }))
    },
  }
}
