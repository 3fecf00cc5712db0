// Vercel function for POST /identify (and /identity, see vercel.json).

import { sharedDatabase } from '../lib/db/open.js'
import { toAuthMode } from '../lib/http/auth.js'
import { createIdentifyHandler } from '../lib/identify/handler.js'
import { createContactStore } from '../lib/identify/store.js'
import { readEnv } from '../lib/platform/env.js'

const env = readEnv()
const identify = createIdentifyHandler({
  store: async () => createContactStore(await sharedDatabase(env)),
  auth: toAuthMode(env.IDENTIFY_API_KEYS, env.VERCEL_ENV),
})

export default { fetch: identify }
