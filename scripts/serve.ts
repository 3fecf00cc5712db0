// `npm start`: serves the same handlers as the Vercel functions, on PORT (default 4000).
import { readFile } from 'node:fs/promises'
import { serve } from '@hono/node-server'
import { composeFromEnv } from '../lib/compose.js'
import { openDatabase } from '../lib/db/open.js'
import { loadDotEnv, readEnv } from '../lib/platform/env.js'

loadDotEnv()
const env = readEnv()
const database = await openDatabase(env)
// The embedded database is the developer's own: bring it up to date without being asked.
if (database.driver === 'pglite') await database.migrate()

const { app } = composeFromEnv(env, {
  database: async () => database,
  overviewHtml: await readFile(new URL('../public/index.html', import.meta.url), 'utf8'),
})

const server = serve({ fetch: app, port: env.PORT, hostname: env.HOST }, ({ port }) => {
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

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    server.close()
    void database.close().finally(() => process.exit(0))
  })
}
