// `npm run db:migrate`: applies drizzle/ to DATABASE_URL with the driver it selects (or to the
// embedded database when DATABASE_URL is unset). Vercel runs it during every build.
import { openDatabase } from '../lib/db/open.js'
import { loadDotEnv, readEnv } from '../lib/platform/env.js'

loadDotEnv()
const database = await openDatabase(readEnv())
try {
  await database.migrate()
  console.log(JSON.stringify({ level: 'info', msg: 'migrations applied', driver: database.driver }))
} finally {
  await database.close()
}
