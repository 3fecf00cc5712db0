// `npx tsx bench/floor.ts [--rows 1e5] [--slices 3] [--seconds 3]`: how far HTTP alone keeps any
// service of returning customers from the limit (README, Performance, "Issue 14, third round").
// On one store, it drives returning requests at concurrency 16 into the service (`npm start`),
// into bench/floor-server.ts reading the same clusters, and into it answering without a database,
// each in alternating slices with the limit, and prints each one's share of the limit.
import { parseArgs } from 'node:util'
import { layOutCustomers, loadCustomers } from '../harness/dataset.js'
import { withClient } from '../harness/fresh-database.js'
import { createBenchDatabase, startServer } from './postgres.js'
import {
  createAccumulator,
  openDirectDatabase,
  type Probes,
  type RunPlan,
  runDirectSlice,
  runServiceSlice,
} from './runners.js'
import { type ServiceOptions, startService } from './service.js'
import { createWorkload } from './workload.js'

const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '1e5' },
    slices: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '3' },
  },
})
const rows = Number(args.rows)
const seconds = Number(args.seconds)
const POOL_SIZE = 4
const FLOOR = new URL('./floor-server.ts', import.meta.url).pathname
const servers: { name: string; options: Partial<ServiceOptions> }[] = [
  { name: 'service (npm start)', options: {} },
  { name: 'HTTP + cluster read only', options: { script: FLOOR, env: { FLOOR: 'read' } } },
  { name: 'HTTP only, no database', options: { script: FLOOR, env: { FLOOR: 'none' } } },
]

const server = await startServer(process.env.BENCH_DATABASE_URL)
const database = await createBenchDatabase(server, 'floor')
try {
  const layout = layOutCustomers(rows, 20261128)
  await withClient(database.url, async (client) => {
    await loadCustomers(client, layout, 0)
    await client.query('vacuum analyze "Contact"')
  })
  const workload = createWorkload(layout, 20261129)
  const probes: Probes = { countStatements: async () => null, postmasterPid: null }
  const direct = await openDirectDatabase(database.url, POOL_SIZE)
  const plan: RunPlan = { kind: 'returning', concurrency: 16 }
  for (const [index, { name, options }] of servers.entries()) {
    const service = await startService({
      databaseUrl: database.url,
      poolSize: POOL_SIZE,
      port: 42_500 + index,
      ...options,
    })
    try {
      // Both processes warm up before anything counts.
      await runServiceSlice(service, workload, plan, 4, probes)
      await runDirectSlice(direct, workload, plan, 2, probes)
      const viaServer = createAccumulator('service', plan)
      const viaLimit = createAccumulator('limit', plan)
      for (let slice = 0; slice < Number(args.slices); slice++) {
        await runServiceSlice(service, workload, plan, seconds, probes, viaServer)
        await runDirectSlice(direct, workload, plan, seconds, probes, viaLimit)
      }
      const [served, limit] = [viaServer.toResult(), viaLimit.toResult()]
      const share = Math.round((100 * served.throughput) / limit.throughput)
      process.stdout.write(
        `${name}: ${served.throughput} req/s, limit ${limit.throughput} req/s: ${share}% of the limit (${served.errors} errors)\n`,
      )
    } finally {
      await service.stop()
    }
  }
  await direct.database.close()
} finally {
  await database.drop()
  await server.stop()
}
