/**
 * Checks that the rows and the ledger's evidence account for every current customer: replaying
 * them (lib/core/evidence.ts), by match key and without blocked values, gives the same customers.
 * Names customers by id only.
 */
import { sql } from 'drizzle-orm'
import { findBuiltInRule, type KeyRef } from '../core/blocklist.js'
import { type EvidenceFinding, type EvidenceRow, findUnexplained } from '../core/evidence.js'
import { type Database, selectRows } from '../db/database.js'

/**
 * Returns where the evidence and the table disagree. It reads every live row and every recorded
 * pair at once: an operator's tool, meant to run beside the service, not in it.
 */
export async function checkLedger(database: Database): Promise<EvidenceFinding[]> {
  const [rows, pairs, blockedRows] = await Promise.all([
    selectRows<EvidenceRow>(
      database.db,
      sql`select "id", "emailKey" as "email", "phoneKey" as "phoneNumber",
            coalesce("linkedId", "id") as "customerId"
          from "Contact" where "deletedAt" is null order by "createdAt", "id"`,
    ),
    selectRows<{ email: string | null; phoneNumber: string | null }>(
      database.db,
      sql`select "evidenceEmailKey" as "email", "evidencePhoneKey" as "phoneNumber"
          from "ContactEvent" where "kind" = 'customers_merged'`,
    ),
    selectRows<KeyRef>(database.db, sql`select "kind", "key" from "BlockedIdentifier"`),
  ])
  // A blocked value is no evidence: it holds nothing together (README, "The guard").
  const blocked = new Set(blockedRows.map((ref) => `${ref.kind}:${ref.key}`))
  const usable = (kind: KeyRef['kind'], key: string | null) =>
    key !== null && findBuiltInRule({ kind, key }) === null && !blocked.has(`${kind}:${key}`)
      ? key
      : null
  const withoutBlocked = <T extends { email: string | null; phoneNumber: string | null }>(
    item: T,
  ) => ({
    ...item,
    email: usable('email', item.email),
    phoneNumber: usable('phoneNumber', item.phoneNumber),
  })
  return findUnexplained(rows.map(withoutBlocked), pairs.map(withoutBlocked))
}
