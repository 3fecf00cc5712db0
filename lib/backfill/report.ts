/** The backfill's report as people read it: counts, line numbers and reasons, never a value. */
import type { BackfillReport } from './run.js'

/** Returns the lines `npm run backfill` prints after a run or a dry run. */
export function formatReport(report: BackfillReport): string[] {
  const would = report.dryRun ? 'would be ' : ''
  const lines = [
    report.dryRun ? 'Dry run: nothing was written.' : 'Backfill committed.',
    `Orders read: ${report.ordersRead}`,
    `Lines rejected: ${report.rejectedCount}`,
    ...report.rejected.map((line) => `  line ${line.line}: ${line.reason}`),
    ...(report.rejectedCount > report.rejected.length
      ? [`  … and ${report.rejectedCount - report.rejected.length} more`]
      : []),
    `Orders refused, every identifier blocked: ${report.unlinkableCount}${
      report.unlinkableLines.length > 0
        ? ` (lines ${report.unlinkableLines.join(', ')}${report.unlinkableCount > report.unlinkableLines.length ? ', …' : ''})`
        : ''
    }`,
    `Identifiers dropped as erased: ${report.erasedIdentifiers} (orders skipped: ${report.erasedOrders})`,
    `New customers ${would}created: ${report.newCustomers}`,
    `Existing customers ${would}merged: ${report.mergedExisting} (largest resulting customer: ${report.largestMerged} rows)`,
    `Rows ${would}inserted: ${report.rowsInserted}; existing rows ${would}re-linked: ${report.rowsRelinked}`,
    `Values ${would}quarantined: ${report.quarantined}`,
    `Ledger events ${would}recorded: ${report.events}`,
    `Time: ${(report.durationMs / 1000).toFixed(1)} s${report.dryRun ? '' : `; identify writes held for ${(report.lockHeldMs / 1000).toFixed(1)} s${report.replanned ? ' (planned again under the lock: what the plan read had changed)' : ''}`}; peak RSS ${report.peakRssMiB} MiB`,
  ]
  return lines
}
