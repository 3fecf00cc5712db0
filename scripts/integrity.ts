// `npm run integrity [-- --repair]`: checks the Contact table of DATABASE_URL (or the embedded
// database) against the linking invariants; with --repair, fixes what the service's rules can,
// through the same locked write path. Then checks that rows and the ledger's recorded pairs account
// for every customer (lib/integrity/ledger.ts). Prints a readable report, then one JSON summary line.
// Exits 1 while any violation remains, 2 when the check or the repair itself failed.

import type { Database } from '../lib/db/database.js'
import { describeError } from '../lib/db/errors.js'
import { openDatabase } from '../lib/db/open.js'
import { toGuardConfig } from '../lib/guard/config.js'
import { rekey } from '../lib/guard/rekey.js'
import { createContactStore } from '../lib/identify/store.js'
import { checkIntegrity, type IntegrityReport, isRepairable } from '../lib/integrity/check.js'
import { checkGuard } from '../lib/integrity/guard.js'
import { checkLedger } from '../lib/integrity/ledger.js'
import { repairIntegrity } from '../lib/integrity/repair.js'
import { loadDotEnv, readEnv } from '../lib/platform/env.js'

const shouldRepair = process.argv.includes('--repair')

function printReport(title: string, report: IntegrityReport) {
  console.log(`${title}: ${report.liveRows} live rows, ${report.violations.length} violations`)
  for (const violation of report.violations) {
    const fix = isRepairable(violation) ? 'repairable' : 'needs review'
    console.log(
      `  ${violation.kind} rows ${violation.rowIds.join(', ')} ${violation.detail} (${fix})`,
    )
  }
}

const countByKind = (report: IntegrityReport) => {
  const counts: Record<string, number> = {}
  for (const { kind } of report.violations) counts[kind] = (counts[kind] ?? 0) + 1
  return counts
}

let database: Database | undefined
try {
  loadDotEnv()
  const env = readEnv()
  database = await openDatabase(env)
  if (database.driver === 'pglite') await database.migrate()
  const found = await checkIntegrity(database)
  printReport('Checked', found)
  let remaining = found
  let repair: Awaited<ReturnType<typeof repairIntegrity>> | null = null
  if (shouldRepair && found.violations.some(isRepairable)) {
    repair = await repairIntegrity(database, createContactStore(database))
    remaining = repair.remaining
    console.log(
      `Repaired: ${repair.rowsChanged} rows changed, requests replayed ${JSON.stringify(repair.replayed)}`,
    )
    printReport('After repair', remaining)
  }
  // Evidence that joins customers the table keeps apart is damage; a customer held only by a stored
  // link is what a merge made before the ledger existed looks like, so it is reported, not failed.
  const ledger = await checkLedger(database)
  const unexplained = ledger.filter((finding) => finding.kind === 'unexplained-link')
  const contradicted = ledger.filter((finding) => finding.kind === 'evidence-joins-customers')
  console.log(
    `Ledger: ${contradicted.length} violations, ${unexplained.length} customers held by links the evidence does not explain`,
  )
  for (const finding of ledger) {
    console.log(
      finding.kind === 'unexplained-link'
        ? `  unexplained-link customer ${finding.customerId}: rows ${finding.groups.map((group) => group.join(', ')).join(' | ')} share no identifier or recorded pair (merged before the ledger, or by hand)`
        : `  evidence-joins-customers ${finding.customerIds.join(', ')}: recorded evidence joins them, the table keeps them apart (needs review)`,
    )
  }
  // The guard: keys as the current rules make them, no customer held by a blocked value, and no
  // erased value back on a row older than its erasure.
  const guardConfig = toGuardConfig(env)
  let guard = await checkGuard(database, guardConfig)
  if (shouldRepair && guard.some((finding) => finding.kind !== 'erased-value-present')) {
    const rekeyed = await rekey(
      { database, erasureKey: guardConfig.erasureKey },
      guardConfig.matchKeys,
      { dryRun: false },
    )
    console.log(
      `Re-keyed: ${rekeyed.rowsRekeyed} rows, ${rekeyed.customersJoined} customers joined, ${rekeyed.customersSplit} split`,
    )
    guard = await checkGuard(database, guardConfig)
  }
  console.log(`Guard: ${guard.length} violations`)
  for (const finding of guard) {
    if (finding.kind === 'key-out-of-date') {
      console.log(
        `  key-out-of-date rows ${finding.rowIds.slice(0, 20).join(', ')}${finding.rowIds.length > 20 ? ` and ${finding.rowIds.length - 20} more` : ''}: run npm run rekey`,
      )
    } else if (finding.kind === 'linked-through-blocked-value') {
      console.log(
        `  linked-through-blocked-value customer ${finding.customerId}: rows ${finding.groups.map((group) => group.join(', ')).join(' | ')} are joined only by a blocked value (npm run rekey splits them)`,
      )
    } else {
      console.log(
        `  erased-value-present rows ${finding.rowIds.join(', ')} events ${finding.eventIds.join(', ')} (needs review: erase the value again)`,
      )
    }
  }
  const isOk = remaining.violations.length === 0 && contradicted.length === 0 && guard.length === 0
  console.log(
    JSON.stringify({
      ok: isOk,
      liveRows: remaining.liveRows,
      found: countByKind(found),
      ...(repair ? { rowsChanged: repair.rowsChanged, replayed: repair.replayed } : {}),
      remaining: countByKind(remaining),
      ledger: { contradicted: contradicted.length, unexplained: unexplained.length },
      guard: Object.fromEntries(
        guard.map((finding) => [finding.kind, 'rowIds' in finding ? finding.rowIds.length : 1]),
      ),
    }),
  )
  process.exitCode = isOk ? 0 : 1
} catch (error) {
  // Never the error itself: Drizzle's message and fields quote the query's parameters (emails,
  // phone numbers). What the service logs instead: the SQLSTATE and the driver's own message.
  const described = describeError(error)
  console.error(`Failed: ${described.code ?? described.name}: ${described.message}`)
  console.log(JSON.stringify({ ok: false, error: described }))
  process.exitCode = 2
} finally {
  await database?.close()
}
