// Vercel function for GET /api/webhooks, which Vercel's cron calls (see vercel.json).
import { composeFromEnv } from '../lib/compose.js'
import { readEnv } from '../lib/platform/env.js'

export default { fetch: composeFromEnv(readEnv()).webhooks }
