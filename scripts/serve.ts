// `npm start`: serves the same handlers as the Vercel functions, on PORT (default 4000).
import { readFile } from 'node:fs/promises'
import type { Server } from 'node:http'
import { serve } from '@hono/node-server'
import { composeFromEnv } from '../lib/compose.js'
import { openDatabase } from '../lib/db/open.js'
import { guardServer, toServerOptions } from '../lib/http/node-server.js'
import { loadDotEnv, readEnv } from '../lib/platform/env.js'
import { createBatchingLogger } from '../lib/platform/log.js'
import { toWebhookConfig } from '../lib/webhooks/config.js'
import { startDeliveryLoop } from '../lib/webhooks/loop.js'
import { buildConsole, CONSOLE_OUTPUT } from './console-bundle.js'

loadDotEnv()
const env = readEnv()
// One write per event-loop turn for the request lines, instead of one per request.
const logger = createBatchingLogger((text) => process.stdout.write(text))
const database = await openDatabase(env)
// The embedded database is the developer's own: bring it up to date without being asked.
if (database.driver === 'pglite') await database.migrate()

// The staff console is built from its sources at every start, so a fresh clone serves it.
await buildConsole()
const { app } = composeFromEnv(env, {
  database: async () => database,
  logger,
  overviewHtml: await readFile(new URL('../public/index.html', import.meta.url), 'utf8'),
  consoleDirectory: CONSOLE_OUTPUT,
})

const limits = {
  requestTimeoutMs: env.SERVER_REQUEST_TIMEOUT_MS,
  maxConnections: env.SERVER_MAX_CONNECTIONS,
}
const options = { fetch: app, port: env.PORT, hostname: env.HOST }
const server = serve({ ...options, serverOptions: toServerOptions(limits) }, ({ port }) => {
  console.log(
    JSON.stringify({
      level: 'info',
      msg: 'listening',
      url: `http://${env.HOST}:${port}`,
      driver: database.driver,
      ...(database.driver === 'pglite' ? { dataDir: env.PGLITE_DATA_DIR } : {}),
    }),
  )
})

// serve() is typed for every kind of server it can make; without createServer it is HTTP/1.1.
guardServer(server as Server, limits, logger)

// Webhooks: a delivery run every few seconds, from the state kept in the database.
const webhook = toWebhookConfig(env)
const stopDelivering = webhook
  ? startDeliveryLoop(database, webhook, { intervalMs: 3_000, logger })
  : async () => {}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    server.close()
    void stopDelivering()
      .then(() => database.close())
      .finally(() => process.exit(0))
  })
}
