// Vercel function for POST /identify (and /identity, see vercel.json and lib/http/routes.ts).
import { composeFromEnv } from '../lib/compose.js'
import { readEnv } from '../lib/platform/env.js'

export default { fetch: composeFromEnv(readEnv()).identify }
