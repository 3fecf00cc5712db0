// The two ways the bench drives a workload: over HTTP against the service process (autocannon),
// and directly through the store in this process, which issues exactly the service's SQL with no
// HTTP, JSON or validation in between: the limit the service is measured against. A run is made
// of slices, so the two paths can alternate and share whatever the machine's speed does meanwhile.
import autocannon from 'autocannon'
import type pg from 'pg'
import { keyedAsStored } from '../lib/core/contact.js'
import { toCustomerView } from '../lib/core/customer.js'
import type { Database } from '../lib/db/database.js'
import { openDatabase } from '../lib/db/open.js'
import type { ContactStore } from '../lib/identify/shell.js'
import { identifyContact } from '../lib/identify/shell.js'
import { createContactStore } from '../lib/identify/store.js'
import { type CustomerStore, createCustomerStore } from '../lib/lookup/store.js'
import { readEnv } from '../lib/platform/env.js'
import { readMachineBusyMs, readProcessTreeCpuMs } from './machine.js'
import type { Service } from './service.js'
import { createLatencyRecorder, type LatencySummary, round } from './stats.js'
import type { RequestKind, Workload } from './workload.js'

/** One measured run of one request kind at one concurrency. */
export type RunResult = {
  path: 'service' | 'limit'
  kind: RequestKind
  concurrency: number
  seconds: number
  requests: number
  /** Completed requests per second. */
  throughput: number
  latencyMs: LatencySummary
  /** Answers other than 200 (service) or failed results (limit). */
  errors: number
  outcomes: Record<string, number>
  /** Attempts beyond the first, per request: each is a conflict that was read again and retried. */
  retriesPerRequest: number
  /** Statements sent to Postgres per request; each is one round trip on node-postgres. */
  statementsPerRequest: number | null
  /** CPU time per request, by process: the service, Postgres (all backends), the load generator. */
  cpuMsPerRequest: { service: number | null; postgres: number | null; client: number }
  /** Peak resident memory of the service process during the run. */
  serviceRssMiB: number | null
  /**
   * Cores kept busy during the run by processes other than the service, Postgres and the bench:
   * anything above ~0.1 means the machine was shared and the figures are pessimistic.
   */
  otherBusyCores: number | null
}

/** What both runners read around a run: the database's statement counter and CPU clocks. */
export type Probes = {
  /** Total statements executed in the bench database so far, or null without pg_stat_statements. */
  countStatements: () => Promise<number | null>
  /** The postmaster's pid when Postgres runs on this machine, for its CPU time. */
  postmasterPid: number | null
}

/** What to run: which kind, how concurrent. */
export type RunPlan = { kind: RequestKind; concurrency: number }

const SETTLE_MS = 300
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const processCpuMs = () => {
  const { user, system } = process.cpuUsage()
  return (user + system) / 1000
}

type Counters = {
  statements: number | null
  postgres: number | null
  service: number
  client: number
  machine: number
}

async function readCounters(probes: Probes, service: Service | null): Promise<Counters> {
  return {
    statements: await probes.countStatements(),
    postgres: probes.postmasterPid === null ? null : readProcessTreeCpuMs(probes.postmasterPid),
    service: service === null ? 0 : service.cpuMs(),
    client: processCpuMs(),
    machine: readMachineBusyMs(),
  }
}

const difference = (before: number | null, after: number | null) =>
  before === null || after === null ? null : after - before

/** Sums the slices of one path's run and turns them into a `RunResult`. */
export type Accumulator = ReturnType<typeof createAccumulator>

/** Returns an empty accumulator for `plan` on `path`. */
export function createAccumulator(path: RunResult['path'], plan: RunPlan) {
  const latencies = createLatencyRecorder()
  const outcomes: Record<string, number> = {}
  const totals = {
    seconds: 0,
    errors: 0,
    handled: 0,
    retries: 0,
    statements: 0 as number | null,
    service: 0,
    postgres: 0 as number | null,
    client: 0,
    other: 0 as number | null,
    peakRss: 0,
  }
  const add = (sum: number | null, part: number | null) =>
    sum === null || part === null ? null : sum + part
  return {
    recordResponse(ms: number, isError: boolean) {
      latencies.record(ms)
      if (isError) totals.errors++
    },
    recordOutcome(outcome: string, attempts: number) {
      outcomes[outcome] = (outcomes[outcome] ?? 0) + 1
      totals.handled++
      totals.retries += Math.max(0, attempts - 1)
    },
    recordRss(bytes: number) {
      totals.peakRss = Math.max(totals.peakRss, bytes)
    },
    /** Adds one slice's wall time and counter deltas; `statements` only where counted here. */
    recordSlice(seconds: number, before: Counters, after: Counters, statements?: number) {
      totals.seconds += seconds
      totals.statements = add(
        totals.statements,
        statements ?? difference(before.statements, after.statements),
      )
      totals.service += after.service - before.service
      totals.client += after.client - before.client
      const postgres = difference(before.postgres, after.postgres)
      totals.postgres = add(totals.postgres, postgres)
      // Whatever the machine spent that the measured processes did not is someone else's load.
      const ours =
        (postgres ?? 0) + (after.service - before.service) + (after.client - before.client)
      totals.other = add(
        totals.other,
        postgres === null ? null : Math.max(0, after.machine - before.machine - ours),
      )
    },
    toResult(): RunResult {
      const requests = latencies.count()
      const handled = Math.max(totals.handled, 1)
      const perRequest = (value: number | null) =>
        value === null ? null : round(value / handled, 3)
      return {
        path,
        kind: plan.kind,
        concurrency: plan.concurrency,
        seconds: round(totals.seconds),
        requests,
        throughput: round(requests / totals.seconds, 1),
        latencyMs: latencies.summarize(),
        errors: totals.errors,
        outcomes,
        retriesPerRequest: round(totals.retries / handled, 4),
        statementsPerRequest: perRequest(totals.statements),
        cpuMsPerRequest: {
          service: path === 'service' ? perRequest(totals.service) : null,
          postgres: perRequest(totals.postgres),
          client: round(totals.client / handled, 3),
        },
        serviceRssMiB: path === 'service' ? round(totals.peakRss / 2 ** 20, 1) : null,
        otherBusyCores:
          totals.other === null ? null : round(totals.other / 1000 / totals.seconds, 2),
      }
    },
  }
}

function driveHttp(
  service: Service,
  workload: Workload,
  plan: RunPlan,
  seconds: number,
  onResponse: (status: number, ms: number) => void,
): Promise<void> {
  const body = () => JSON.stringify(workload.next(plan.kind))
  const lookupPath = () =>
    `/api/customers?email=${encodeURIComponent(workload.next(plan.kind).email ?? '')}`
  const request: autocannon.Request =
    plan.kind === 'lookup'
      ? {
          method: 'GET',
          path: '/api/customers',
          headers: service.adminHeaders,
          setupRequest: (request) => ({ ...request, path: lookupPath() }),
        }
      : {
          method: 'POST',
          path: '/identify',
          headers: service.headers,
          setupRequest: (request) => ({ ...request, body: body() }),
        }
  return new Promise<void>((resolve, reject) => {
    const instance = autocannon(
      {
        url: service.url,
        connections: plan.concurrency,
        duration: seconds,
        timeout: 30,
        requests: [request],
      },
      (error: unknown) => (error ? reject(error) : resolve()),
    )
    instance.on('response', (_client, status, _bytes, ms) => onResponse(status, ms))
  })
}

/**
 * Drives the service over HTTP with autocannon for `seconds`: `plan.concurrency` keep-alive
 * connections, each sending its next request as soon as the last is answered. Without an
 * accumulator, the slice is a warm-up and nothing is kept.
 */
export async function runServiceSlice(
  service: Service,
  workload: Workload,
  plan: RunPlan,
  seconds: number,
  probes: Probes,
  accumulator?: Accumulator,
): Promise<void> {
  if (accumulator === undefined) {
    await driveHttp(service, workload, plan, seconds, () => {})
    await sleep(SETTLE_MS)
    workload.settle()
    service.takeLogLines()
    return
  }
  const before = await readCounters(probes, service)
  const rssTimer = setInterval(() => accumulator.recordRss(service.rssBytes()), 250)
  const started = performance.now()
  await driveHttp(service, workload, plan, seconds, (status, ms) =>
    accumulator.recordResponse(ms, status !== 200),
  )
  const elapsed = (performance.now() - started) / 1000
  // Requests in flight when autocannon stopped still finish, and are logged and counted.
  await sleep(SETTLE_MS)
  workload.settle()
  clearInterval(rssTimer)
  const after = await readCounters(probes, service)
  for (const line of service.takeLogLines()) {
    accumulator.recordOutcome(line.outcome, line.attempts ?? 1)
  }
  accumulator.recordSlice(elapsed, before, after)
}

/** The limit's database: the service's driver and pool size, counting every statement it sends. */
export type DirectDatabase = {
  database: Database
  /** The stores over it, created once as the service creates its own. */
  store: ContactStore
  customers: CustomerStore
  sentStatements: () => number
}

/** Opens `url` as the service does (node-postgres, `poolSize` connections), counting statements. */
export async function openDirectDatabase(url: string, poolSize: number): Promise<DirectDatabase> {
  const database = await openDatabase(
    readEnv({
      DATABASE_URL: url,
      DATABASE_DRIVER: 'node-postgres',
      DATABASE_POOL_SIZE: String(poolSize),
    }),
  )
  let sent = 0
  // Every statement node-postgres sends goes through a pooled client's `query`, and the driver
  // sends the next only once the last is answered: one call is one round trip.
  const pool = (database.db as unknown as { $client: pg.Pool }).$client
  pool.on('connect', (client) => {
    const original = client.query.bind(client) as (...args: unknown[]) => unknown
    ;(client as { query: unknown }).query = (...args: unknown[]) => {
      sent++
      return original(...args)
    }
  })
  return {
    database,
    store: createContactStore(database),
    customers: createCustomerStore(database),
    sentStatements: () => sent,
  }
}

/**
 * Drives the store directly for `seconds`: `plan.concurrency` loops calling `identifyContact` in
 * this process, through a database with the service's driver and pool size.
 */
export async function runDirectSlice(
  direct: DirectDatabase,
  workload: Workload,
  plan: RunPlan,
  seconds: number,
  probes: Probes,
  accumulator?: Accumulator,
): Promise<void> {
  const before = accumulator && (await readCounters(probes, null))
  const sentBefore = direct.sentStatements()
  const started = performance.now()
  const deadline = started + seconds * 1000
  await Promise.all(
    Array.from({ length: plan.concurrency }, async () => {
      while (performance.now() < deadline) {
        const request = workload.next(plan.kind)
        const start = performance.now()
        const result = await (plan.kind === 'lookup'
          ? lookUp(direct.customers, request.email ?? '')
          : identifyContact(direct.store, keyedAsStored(request))
        ).catch(() => null)
        const ms = performance.now() - start
        if (accumulator === undefined) continue
        accumulator.recordResponse(ms, result === null || !result.ok)
        if (result === null) accumulator.recordOutcome('thrown', 1)
        else accumulator.recordOutcome(result.ok ? result.outcome : 'failed', result.attempts)
      }
    }),
  )
  workload.settle()
  const elapsed = (performance.now() - started) / 1000
  if (accumulator === undefined || before === undefined) return
  const after = await readCounters(probes, null)
  accumulator.recordSlice(elapsed, before, after, direct.sentStatements() - sentBefore)
}

// The lookup's work without HTTP: its one read, and the customer built from it.
async function lookUp(customers: CustomerStore, email: string) {
  const customer = toCustomerView(await customers.readCustomer({ email }))
  return { ok: true as const, outcome: customer === null ? 'not_found' : 'found', attempts: 1 }
}
