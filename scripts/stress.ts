// `npm run stress [-- --requests N --concurrency N --pool N --drivers a,b --seed N --guard-every N]`:
// starts the service as its own process against a real Postgres (DATABASE_URL, a superuser URL,
// or an embedded server), fires overlapping requests through node-postgres and through the Neon
// HTTP path, with a block, unblock or erasure racing them after every N requests (0: none), then
// proves the table (harness/stress.ts). Exits 1 unless every check passed.
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { startEmbeddedPostgres } from '../harness/embedded-postgres.js'
import { runStress, type StressOptions, type StressResult } from '../harness/stress.js'
import { type Driver, loadDotEnv, readEnv } from '../lib/platform/env.js'

async function main() {
  const { values } = parseArgs({
    options: {
      requests: { type: 'string', default: '5000' },
      concurrency: { type: 'string', default: '32' },
      pool: { type: 'string', default: '400' },
      seed: { type: 'string', default: '20261125' },
      drivers: { type: 'string', default: 'node-postgres,neon-http' },
      'guard-every': { type: 'string', default: '50' },
    },
  })
  const options: StressOptions = {
    requests: Number(values.requests),
    concurrency: Number(values.concurrency),
    poolSize: Number(values.pool),
    seed: Number(values.seed),
    guardEvery: Number(values['guard-every']),
  }
  loadDotEnv()
  const given = readEnv().DATABASE_URL
  const server = given ? { url: given, stop: async () => {} } : await startEmbeddedPostgres()
  try {
    const results: StressResult[] = []
    for (const driver of values.drivers.split(',') as Driver[]) {
      const result = await runStress(server.url, driver, options)
      results.push(result)
      console.log(JSON.stringify(result))
    }
    console.log(
      '\n| driver | requests | concurrency | req/s | retries/request | 503 resent | guard calls | guard refused (503) | failures | violations |',
    )
    console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |')
    for (const r of results) {
      console.log(
        `| ${r.driver} | ${r.requests} | ${r.concurrency} | ${r.requestsPerSecond} | ${r.retriesPerRequest} | ${r.resent503} | ${r.guardCalls} | ${r.guardRefused} | ${r.otherFailures.length} | ${r.violations.length} |`,
      )
    }
    return results.every((r) => r.otherFailures.length === 0 && r.violations.length === 0)
  } finally {
    await server.stop()
  }
}

// Exit explicitly, with the checks' verdict, whatever handles are still open.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href)
  process.exit((await main()) ? 0 : 1)
