// A smaller `npm run stress`: the service as its own process, loaded over HTTP through both
// server-backed drivers, then the table proven against every request sent; and again with guard
// calls racing the requests, the table proven against its evidence.
import { expect, inject, test } from 'vitest'
import { runStress } from '../harness/stress.js'
import { SERVER_DRIVERS } from './support/database.js'

test.each(SERVER_DRIVERS)(
  'the service under load through %s keeps every customer whole',
  async (driver) => {
    const result = await runStress(inject('adminUrl'), driver, {
      requests: 400,
      concurrency: 16,
      poolSize: 60,
      seed: 7,
    })
    console.log(JSON.stringify(result))
    expect(result.otherFailures).toEqual([])
    expect(result.violations).toEqual([])
  },
  120_000,
)

test.each(SERVER_DRIVERS)(
  'blocks, unblocks and erasures racing the load through %s leave every customer as its evidence holds it',
  async (driver) => {
    const result = await runStress(inject('adminUrl'), driver, {
      requests: 400,
      concurrency: 16,
      poolSize: 60,
      seed: 8,
      guardEvery: 10,
    })
    console.log(JSON.stringify(result))
    expect(result.guardCalls).toBeGreaterThan(5)
    expect(result.otherFailures).toEqual([])
    expect(result.violations).toEqual([])
  },
  120_000,
)
