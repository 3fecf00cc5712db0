// Vercel function for GET /api/health.
import { composeFromEnv } from '../lib/compose.js'
import { readEnv } from '../lib/platform/env.js'

export default { fetch: composeFromEnv(readEnv()).health }
