// `npx tsx bench/floor.ts [--rows 1e5] [--slices 3] [--seconds 3] [--kinds returning,mix]`: how
// far HTTP alone keeps any identify service from the limit (README, Performance, "Issue 14, third
// round" and "fifth round"). On one store, for each kind, it drives requests at concurrency 16 into
// the service (`npm start`) and into bench/floor-server.ts doing only the limit's own work behind
// HTTP (`identify`), and for returning customers also into it only reading the clusters (`read`)
// and answering without a database (`none`), each in alternating slices with the limit, and
// prints each one's share of the limit.
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
import { createWorkload, type RequestKind } from './workload.js'

const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '1e5' },
    slices: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '3' },
    kinds: { type: 'string', default: 'returning' },
  },
})
const rows = Number(args.rows)
const seconds = Number(args.seconds)
const POOL_SIZE = 4
const FLOOR = new URL('./floor-server.ts', import.meta.url).pathname
const floorServer = (floor: string) => ({ script: FLOOR, env: { FLOOR: floor } })
const servers: { name: string; options: Partial<ServiceOptions>; kinds: RequestKind[] }[] = [
  { name: 'service (npm start)', options: {}, kinds: ['returning', 'mix'] },
  {
    name: "HTTP + the limit's work",
    options: floorServer('identify'),
    kinds: ['returning', 'mix'],
  },
  { name: 'HTTP + cluster read only', options: floorServer('read'), kinds: ['returning'] },
  { name: 'HTTP only, no database', options: floorServer('none'), kinds: ['returning'] },
]
const kinds = args.kinds.split(',') as RequestKind[]

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
  for (const kind of kinds) {
    const plan: RunPlan = { kind, concurrency: 16 }
    for (const [index, { name, options, kinds: serverKinds }] of servers.entries()) {
      if (!serverKinds.includes(kind)) continue
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
          `${kind}, ${name}: ${served.throughput} req/s, limit ${limit.throughput} req/s: ${share}% of the limit (${served.errors} errors)\n`,
        )
      } finally {
        await service.stop()
      }
    }
  }
  await direct.database.close()
} finally {
  await database.drop()
  await server.stop()
}
