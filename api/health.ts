// Vercel function for GET /api/health.
import { sharedDatabase } from '../lib/db.js'
import { readEnv } from '../lib/env.js'
import { createHealthHandler } from '../lib/health.js'

const env = readEnv()

export default { fetch: createHealthHandler({ database: () => sharedDatabase(env) }) }
