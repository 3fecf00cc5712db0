// The floor bench/floor.ts measures the service against: a server that does only what any
// identify service must (HTTP through the same adapter as `npm start`, and, with FLOOR=read, the
// store's cluster read of the keys it is sent) and nothing of the service's own work: no key
// check, validation, match keys, linking, deadline, ledger or log line. Never a way to serve.
import { serve } from '@hono/node-server'
import { openDatabase } from '../lib/db/open.js'
import { createContactStore } from '../lib/identify/store.js'
import { readEnv } from '../lib/platform/env.js'

const env = readEnv()
const database = await openDatabase(env)
const store = createContactStore(database)
const isReading = process.env.FLOOR === 'read'

serve({
  port: env.PORT,
  hostname: env.HOST,
  fetch: async (request) => {
    if (new URL(request.url).pathname === '/api/health') return Response.json({ status: 'ok' })
    const body = (await request.json()) as { email?: string | null; phoneNumber?: string | null }
    const rows = isReading
      ? await store.readCluster({
          emailKey: body.email ?? null,
          phoneKey: body.phoneNumber ?? null,
        })
      : []
    return Response.json({ rows })
  },
})
