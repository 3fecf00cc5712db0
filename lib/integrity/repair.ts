/**
 * Repairs what the service's own rules can repair of what ./check.ts finds, through the service's
 * own locked write path (README, "Integrity").
 */
import { sql } from 'drizzle-orm'
import { type Database, selectRows } from '../db/database.js'
import { type ContactStore, type IdentifyOutcome, identifyContact } from '../identify/shell.js'
import { checkIntegrity, type IntegrityReport, isRepairable } from './check.js'

/** What a repair did: the requests it replayed, by outcome, and what is left. */
export type RepairReport = {
  replayed: Partial<Record<IdentifyOutcome | 'failed', number>>
  rowsChanged: number
  remaining: IntegrityReport
}

/**
 * Repairs what the service's rules can: for each repairable violation, re-identifies one
 * identifier of its rows through `store`, exactly as a request would, until nothing repairable is
 * left or a round changes nothing.
 */
export async function repairIntegrity(
  database: Database,
  store: ContactStore,
  now: () => Date = () => new Date(),
): Promise<RepairReport> {
  const started = now()
  const replayed: RepairReport['replayed'] = {}
  let report = await checkIntegrity(database)
  for (let round = 0; round < 10; round++) {
    const ids = report.violations.filter(isRepairable).flatMap((v) => v.rowIds)
    if (ids.length === 0) break
    const rows = await selectRows<{ email: string | null; phoneNumber: string | null }>(
      database.db,
      sql`select "email", "phoneNumber" from "Contact" where "id" in ${ids}`,
    )
    const requests = new Map<string, { email: string | null; phoneNumber: string | null }>()
    for (const { email, phoneNumber } of rows) {
      // One identifier per request: enough to reach the row's whole cluster, never a new row.
      if (email !== null) requests.set(`e:${email}`, { email, phoneNumber: null })
      else if (phoneNumber !== null) requests.set(`p:${phoneNumber}`, { email: null, phoneNumber })
    }
    for (const request of requests.values()) {
      const result = await identifyContact(store, request, { now })
      const outcome = result.ok ? result.outcome : 'failed'
      replayed[outcome] = (replayed[outcome] ?? 0) + 1
    }
    const before = report.violations.length
    report = await checkIntegrity(database)
    if (report.violations.length >= before) break
  }
  const [changed] = await selectRows<{ n: number | string }>(
    database.db,
    sql`select count(*) as n from "Contact" where "updatedAt" >= ${started}`,
  )
  return { replayed, rowsChanged: Number(changed?.n ?? 0), remaining: report }
}
