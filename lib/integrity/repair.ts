/**
 * Repairs what the service's own rules can repair of what ./check.ts finds, through the service's
 * own locked write path (README, "Integrity").
 */
import { sql } from 'drizzle-orm'
import type { KeyedIdentifiers, MatchKeys } from '../core/contact.js'
import { type Database, selectRows } from '../db/database.js'
import { type ContactStore, type IdentifyOutcome, identifyContact } from '../identify/shell.js'
import { checkIntegrity, type IntegrityReport, isRepairable } from './check.js'

/**
 * What a repair did: the requests it replayed, by outcome (`skipped`: the replay would have
 * inserted a row, because its row went away since the check), and what is left.
 */
export type RepairReport = {
  replayed: Partial<Record<IdentifyOutcome | 'failed' | 'skipped', number>>
  rowsChanged: number
  remaining: IntegrityReport
}

/**
 * Repairs what the service's rules can: for each row of a repairable violation, re-identifies the
 * row's email and phone number together through `store`, exactly as a request would, until
 * nothing repairable is left or a round changes nothing. Never inserts a row.
 *
 * Both identifiers, because either may be what joins the row to another customer: a phone shared
 * by two primaries, or by two orphans of one deleted primary, which a replay of the email alone
 * never reaches (and which, replayed one orphan at a time, become two customers). A pair that a
 * live row holds inserts nothing (linking rule 4): the row itself is in the cluster it reads.
 */
export async function repairIntegrity(
  database: Database,
  store: ContactStore,
  now: () => Date = () => new Date(),
): Promise<RepairReport> {
  const started = now()
  const replayed: RepairReport['replayed'] = {}
  const count = (outcome: keyof RepairReport['replayed']) => {
    replayed[outcome] = (replayed[outcome] ?? 0) + 1
  }
  const replayStore = refusingInserts(store)
  let report = await checkIntegrity(database)
  for (let round = 0; round < 10; round++) {
    const ids = report.violations.filter(isRepairable).flatMap((v) => v.rowIds)
    if (ids.length === 0) break
    const requests = await selectRows<KeyedIdentifiers>(
      database.db,
      sql`select distinct on ("emailKey", "phoneKey") "email", "phoneNumber", "emailKey", "phoneKey"
          from "Contact" where "id" in ${ids} and "deletedAt" is null
          order by "emailKey", "phoneKey", "id"`,
    )
    for (const request of requests) {
      try {
        // The ledger records the repair's changes under one recognisable request id.
        const result = await identifyContact(replayStore, request, {
          now,
          requestId: 'integrity-repair',
        })
        count(result.ok ? result.outcome : 'failed')
      } catch (error) {
        if (!(error instanceof RepairWouldInsertError)) throw error
        count('skipped')
      }
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

/** A repair's replay would have inserted a row; it is refused and nothing is written. */
export class RepairWouldInsertError extends Error {
  constructor() {
    super('Integrity repair refused a write that inserts a row')
    this.name = 'RepairWouldInsertError'
  }
}

// A replay's row may be deleted after the check found it; the replay would then bring an
// identifier its cluster no longer has, and rule 4 would insert a row the repair must not create.
// Refused at the write, where the plan is final, also inside a locked retry.
function refusingInserts(store: ContactStore): ContactStore {
  const refusing: ContactStore = {
    readCluster: (keys) => store.readCluster(keys),
    writePlan: (plan, request, linkable, requestId) =>
      plan.insert === null
        ? store.writePlan(plan, request, linkable, requestId)
        : Promise.reject(new RepairWouldInsertError()),
  }
  const whileLocked = store.whileLocked?.bind(store)
  if (whileLocked === undefined) return refusing
  return {
    ...refusing,
    whileLocked: <T>(
      keys: MatchKeys,
      leaderIds: readonly number[],
      work: (locked: ContactStore) => Promise<T>,
    ) => whileLocked(keys, leaderIds, (locked) => work(refusingInserts(locked))),
  }
}
