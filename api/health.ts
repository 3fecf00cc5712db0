// Vercel function for GET /api/health.
import { sharedDatabase } from '../lib/db.js'
import { createHealthHandler } from '../lib/health.js'

export default { fetch: createHealthHandler({ database: sharedDatabase }) }
