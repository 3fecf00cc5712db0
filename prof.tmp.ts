import { createReadStream } from 'node:fs'
import { readOrders } from './lib/backfill/input.ts'
import { DEFAULT_MATCH_KEYS } from './lib/guard/match-keys.ts'
const t = performance.now()
const r = await readOrders(createReadStream(process.argv[2]!), { format: 'csv', strict: false, matchKeys: DEFAULT_MATCH_KEYS })
console.log('read', r.orders.length, performance.now() - t, process.memoryUsage().rss / 2**20)
