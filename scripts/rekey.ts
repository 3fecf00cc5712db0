// `npm run rekey [-- --dry-run]`: recomputes every match key made under another version of the
// rules or configuration (PHONE_DEFAULT_REGION, EMAIL_PROVIDER_ALIASES), then joins the customers
// that now share a key and splits those a built-in rule now separates, through the guard's locked
// writes. A dry run writes nothing and says what would happen. Exits 1 when an operation failed.
import type { Database } from '../lib/db/database.js'
import { describeError } from '../lib/db/errors.js'
import { openDatabase } from '../lib/db/open.js'
import { toGuardConfig } from '../lib/guard/config.js'
import { rekey } from '../lib/guard/rekey.js'
import { loadDotEnv, readEnv } from '../lib/platform/env.js'

const dryRun = process.argv.includes('--dry-run')
let database: Database | undefined
try {
  loadDotEnv()
  const env = readEnv()
  const config = toGuardConfig(env)
  database = await openDatabase(env)
  if (database.driver === 'pglite') await database.migrate()
  const report = await rekey({ database, erasureKey: config.erasureKey }, config.matchKeys, {
    dryRun,
    onProgress: (line) => console.error(line),
  })
  const verb = dryRun ? 'Would' : 'Did'
  console.log(
    `${verb} re-key ${report.rowsRekeyed} rows and ${report.evidenceRekeyed} recorded pairs to version ${report.keyVersion}`,
  )
  console.log(
    `${verb} join ${report.customersJoined} customers into others, through ${report.joins} shared keys`,
  )
  console.log(
    `${verb} split ${report.customersSplit} customers held by values a built-in rule blocks`,
  )
  console.log(JSON.stringify({ dryRun, ...report }))
  process.exitCode = report.failed > 0 ? 1 : 0
} catch (error) {
  console.error('rekey failed:', describeError(error))
  process.exitCode = 2
} finally {
  await database?.close()
}
