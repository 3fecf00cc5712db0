/** Reading one customer without writing: by an identifier, or by any of its contact ids. */
import { findBuiltInRule, toKeyRefs, withoutBuiltInBlocked } from '../core/blocklist.js'
import type { ContactRow } from '../core/contact.js'
import type { CustomerEvidence } from '../core/customer.js'
import type { Database } from '../db/database.js'
import { DEFAULT_MATCH_KEYS, type MatchKeyConfig, toMatchKeys } from '../guard/match-keys.js'
import { readAffected, toRefText } from '../guard/store.js'
import {
  selectCluster,
  throughContact,
  throughKeys,
  throughUnblocked,
} from '../identify/cluster-read.js'
import type { CustomerQuery } from './query.js'

/** The reads the lookup needs; one statement each. */
export type CustomerStore = {
  /** Returns the live rows of the customer `query` names, oldest first; none when no match. */
  readCustomer(query: CustomerQuery): Promise<ContactRow[]>
  /** Returns the store's blocked keys among `rows` and the request pairs recorded for them. */
  readEvidence(rows: readonly ContactRow[]): Promise<CustomerEvidence>
  /** Whether the identifier `query` names is blocked (a built-in rule, or the store's list). */
  isBlocked(query: CustomerQuery): Promise<boolean>
}

/**
 * Returns a store over `database`. An identifier is read by its match key under `matchKeys`, as
 * identify reads it: a blocked value names no customer (it may sit in thousands). A contact id
 * reaches the row's whole customer, whichever row of it was primary before a merge.
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
            ? throughUnblocked(
                withoutBuiltInBlocked(
                  toMatchKeys(
                    { email: email ?? null, phoneNumber: phoneNumber ?? null },
                    matchKeys,
                  ),
                ),
              )
            : throughContact(contactId),
        ),
      ),
    async isBlocked({ email, phoneNumber }) {
      const keys = toMatchKeys(
        { email: email ?? null, phoneNumber: phoneNumber ?? null },
        matchKeys,
      )
      const ref = toKeyRefs(keys)[0]
      if (ref === undefined) return false
      if (findBuiltInRule(ref) !== null) return true
      const affected = await readAffected(database, throughKeys(NO_KEYS), keys, [])
      return affected.blocked.has(toRefText(ref))
    },
    async readEvidence(rows) {
      const affected = await readAffected(database, throughKeys(NO_KEYS), NO_KEYS, rows)
      const keys = new Set(rows.flatMap((row) => [`e:${row.emailKey}`, `p:${row.phoneKey}`]))
      return {
        isBlocked: (ref) => affected.blocked.has(toRefText(ref)),
        // Only pairs whose two keys are both this customer's: the rest joined someone else.
        pairs: affected.pairs
          .filter((pair) => keys.has(`e:${pair.emailKey}`) && keys.has(`p:${pair.phoneKey}`))
          .map((pair) => ({ email: pair.email, phoneNumber: pair.phoneNumber, at: pair.at })),
      }
    },
  }
}

const NO_KEYS = { emailKey: null, phoneKey: null }
