// Vercel function for DELETE /api/identifiers (see lib/http/routes.ts).
import { composeFromEnv } from '../lib/compose.js'
import { readEnv } from '../lib/platform/env.js'

export default { fetch: composeFromEnv(readEnv()).identifiers }
