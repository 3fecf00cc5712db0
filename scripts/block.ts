// `npm run block -- --phone <number> | --email <address> [--unblock] [--dry-run]`: puts a value on
// the store's blocklist (or takes it off), splitting (or joining) the customers it held together,
// exactly as POST/DELETE /api/blocked-identifiers do. Prints what it did, then one JSON line.
// Exits 1 when refused (already blocked, not blocked, built in), 2 on a failure or bad arguments.
import { parseArgs } from 'node:util'
import type { Database } from '../lib/db/database.js'
import { describeError } from '../lib/db/errors.js'
import { openDatabase } from '../lib/db/open.js'
import { toGuardConfig } from '../lib/guard/config.js'
import { toValueRef, ValueBodySchema } from '../lib/guard/request.js'
import { blockValue, unblockValue } from '../lib/guard/shell.js'
import { parseInput } from '../lib/http/validation.js'
import { loadDotEnv, readEnv } from '../lib/platform/env.js'

let database: Database | undefined
try {
  const { values } = parseArgs({
    options: {
      phone: { type: 'string' },
      email: { type: 'string' },
      unblock: { type: 'boolean', default: false },
      'dry-run': { type: 'boolean', default: false },
    },
  })
  const body = parseInput(ValueBodySchema, {
    ...(values.email === undefined ? {} : { email: values.email }),
    ...(values.phone === undefined ? {} : { phoneNumber: values.phone }),
  })
  if (!body.ok) {
    console.error(`block: ${body.error.message} (give --phone or --email)`)
    process.exit(2)
  }
  loadDotEnv()
  const env = readEnv()
  const config = toGuardConfig(env)
  const ref = toValueRef(body.value, config.matchKeys)
  database = await openDatabase(env)
  if (database.driver === 'pglite') await database.migrate()
  const guard = { database, erasureKey: config.erasureKey }
  const dryRun = values['dry-run']
  const options = { dryRun, requestId: 'cli-block' }
  const result = values.unblock
    ? await unblockValue(guard, ref, options)
    : await blockValue(guard, ref, 'store', options)
  if (!result.ok) {
    console.error(`block: refused: ${result.error}`)
    process.exitCode = ['conflict', 'busy', 'unavailable', 'deadline'].includes(result.error)
      ? 2
      : 1
  } else {
    const verb = dryRun ? 'would' : 'did'
    if ('splits' in result) {
      console.log(`Blocking ${ref.kind} ${verb} split ${result.splits.length} customers:`)
      for (const split of result.splits)
        console.log(`  ${split.primaryContactId} → ${split.into.join(', ')}`)
    } else {
      console.log(`Unblocking ${ref.kind} ${verb} join ${result.merges.length} customers:`)
      for (const merge of result.merges)
        console.log(`  ${merge.absorbed.join(', ')} → ${merge.primaryContactId}`)
    }
    console.log(JSON.stringify({ dryRun, ...result }))
  }
} catch (error) {
  console.error('block failed:', describeError(error))
  process.exitCode = 2
} finally {
  await database?.close()
}
