// Vercel function for POST /identify (and /identity, see vercel.json).
import { toAuthMode } from '../lib/auth.js'
import { createContactStore } from '../lib/contact-store.js'
import { sharedDatabase } from '../lib/db.js'
import { readEnv } from '../lib/env.js'
import { createIdentifyHandler } from '../lib/identify-handler.js'

const env = readEnv()
const identify = createIdentifyHandler({
  store: async () => createContactStore(await sharedDatabase(env)),
  auth: toAuthMode(env.IDENTIFY_API_KEYS, env.VERCEL_ENV),
})

export default { fetch: identify }
