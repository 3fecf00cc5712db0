// Vercel function for POST /identify (and /identity, see vercel.json).
import { createContactStore } from '../lib/contact-store.js'
import { sharedDatabase } from '../lib/db.js'
import { createIdentifyHandler } from '../lib/identify.js'

const identify = createIdentifyHandler({
  store: async () => createContactStore(await sharedDatabase()),
})

export default { fetch: identify }
