// The floor bench/floor.ts measures the service against: a server that does only what any
// identify service must, through the same HTTP adapter as `npm start`, and nothing of the
// service's own work: no key check, validation, match keys, deadline or log line. FLOOR says what
// it does with the body: `read`, the store's cluster read of the keys it is sent; `identify`, what
// the limit does in-process (the store's identify, linking and writes included, keys as sent);
// `none`, nothing. Never a way to serve.
import { serve } from '@hono/node-server'
import { keyedAsStored } from '../lib/core/contact.js'
import { openDatabase } from '../lib/db/open.js'
import { identifyContact } from '../lib/identify/shell.js'
import { createContactStore } from '../lib/identify/store.js'
import { readEnv } from '../lib/platform/env.js'

const env = readEnv()
const database = await openDatabase(env)
const store = createContactStore(database)
const floor = process.env.FLOOR ?? 'none'

type Body = { email?: string | null; phoneNumber?: string | null }
const work: Record<string, (body: Body) => Promise<unknown>> = {
  none: async () => [],
  read: (body) =>
    store.readCluster({ emailKey: body.email ?? null, phoneKey: body.phoneNumber ?? null }),
  identify: (body) =>
    identifyContact(
      store,
      keyedAsStored({ email: body.email ?? null, phoneNumber: body.phoneNumber ?? null }),
    ),
}
const answer = work[floor]
if (answer === undefined) throw new Error(`FLOOR must be one of ${Object.keys(work).join(', ')}`)

serve({
  port: env.PORT,
  hostname: env.HOST,
  fetch: async (request) => {
    if (new URL(request.url).pathname === '/api/health') return Response.json({ status: 'ok' })
    const result = await answer((await request.json()) as Body)
    // A failed identify is answered as the service answers it, so the bench counts it as an error.
    const isFailed = (result as { ok?: unknown }).ok === false
    return Response.json({ result }, { status: isFailed ? 503 : 200 })
  },
})
