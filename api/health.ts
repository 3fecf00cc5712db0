// Vercel function for GET /api/health.
import { sharedDatabase } from '../lib/db/open.js'
import { createHealthHandler } from '../lib/health/handler.js'
import { readEnv } from '../lib/platform/env.js'

const env = readEnv()

export default { fetch: createHealthHandler({ database: () => sharedDatabase(env) }) }
