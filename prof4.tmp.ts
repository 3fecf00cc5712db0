import { createReadStream } from 'node:fs'
import pg from 'pg'
import { startServer, createBenchDatabase } from './bench/postgres.ts'
import { readOrders } from './lib/backfill/input.ts'
import { readTableState } from './lib/backfill/store.ts'
import { planBackfill } from './lib/core/backfill.ts'
import { DEFAULT_MATCH_KEYS } from './lib/guard/match-keys.ts'
import { DEFAULT_SHARING_LIMITS } from './lib/core/blocklist.ts'
const server = await startServer(undefined)
const db = await createBenchDatabase(server, 'prof')
try {
const client = new pg.Client({ connectionString: db.url }); await client.connect()
await client.query(`insert into "Contact" ("email","phoneNumber","emailKey","phoneKey","keyVersion","linkPrecedence") select 'customer'||n||'@shop.example', (4150000000+n)::text, 'customer'||n||'@shop.example', (4150000000+n)::text, '1', 'primary' from generate_series(1,100000) n`)
await client.query('analyze "Contact"')
let t = performance.now()
const r = await readOrders(createReadStream('/tmp/o100k.csv'), { format: 'csv', strict: false, matchKeys: DEFAULT_MATCH_KEYS })
console.log('read', performance.now() - t); t = performance.now()
await client.query('begin')
const keys = new Map<string, any>(); for (const o of r.orders) { keys.set('e'+o.emailKey, {kind:'email', key:o.emailKey}); keys.set('p'+o.phoneKey, {kind:'phoneNumber', key:o.phoneKey}) }
const state = await readTableState(client, keys.values())
console.log('state', state.rows.length, performance.now() - t); t = performance.now()
const plan = planBackfill({ ...state, limits: DEFAULT_SHARING_LIMITS, now: new Date() }, r.orders)
console.log('plan', plan.inserts.length, plan.events.length, performance.now() - t, process.memoryUsage().rss/2**20)
await client.query('rollback'); await client.end()
} finally { await db.drop(); await server.stop() }
