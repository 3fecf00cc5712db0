// `npm run bench [-- --quick]`: loads a synthetic store into a fresh PostgreSQL, drives the service
// process over HTTP and the same SQL directly (the limit), and writes bench/results/<time>.json
// plus a Markdown table. README, "Performance", explains what it measures.
import { spawnSync } from 'node:child_process'
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { mkdtemp } from 'node:fs/promises'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import pg from 'pg'
import { type Layout, layOutCustomers, loadCustomers } from '../harness/dataset.js'
import { withClient } from '../harness/fresh-database.js'
import { type ColdStart, measureColdStart } from './cold-start.js'
import { type GuardBench, measureGuard, toGuardMarkdown } from './guard.js'
import { describeMachine, toMachineLine } from './machine.js'
import { measureMergeCost } from './merge-cost.js'
import { createBenchDatabase, startServer } from './postgres.js'
import { summarizeProfile } from './profile.js'
import { type BenchResult, toMarkdown } from './report.js'
import {
  createAccumulator,
  openDirectDatabase,
  type Probes,
  type RunPlan,
  type RunResult,
  runDirectSlice,
  runServiceSlice,
} from './runners.js'
import { startService } from './service.js'
import { createWorkload, REQUEST_KINDS, type RequestKind } from './workload.js'

const { values: args } = parseArgs({
  allowNegative: true,
  options: {
    quick: { type: 'boolean', default: false },
    pool: { type: 'string' },
    seconds: { type: 'string' },
    kinds: { type: 'string' },
    concurrency: { type: 'string' },
    rows: { type: 'string' },
    profile: { type: 'boolean' },
    // The request kind the profile drives (the mix by default), and a folder to keep it in.
    'profile-kind': { type: 'string' },
    'keep-profile': { type: 'string' },
    // --no-cold-start skips building the deployment; --no-throughput measures only the cold start.
    'cold-start': { type: 'boolean', default: true },
    throughput: { type: 'boolean', default: true },
    out: { type: 'string' },
  },
})

const list = (text: string | undefined) => text?.split(',').filter((item) => item !== '')
const isQuick = args.quick === true

/** Everything a bench run does; `--quick` shrinks it to about a minute. */
const config = {
  // The largest scale gets every kind at every concurrency; the others the growth workload only.
  scales: args.throughput
    ? (list(args.rows) ?? (isQuick ? ['1e4', '1e5'] : ['1e4', '1e5', '1e6'])).map(Number)
    : [],
  kinds: (list(args.kinds) ?? [...REQUEST_KINDS]) as RequestKind[],
  concurrencies: (list(args.concurrency) ?? (isQuick ? ['16'] : ['1', '16', '64'])).map(Number),
  growth: { kind: 'mix' as RequestKind, concurrencies: isQuick ? [16] : [1, 16] },
  // Seconds measured per path and run, in alternating slices of service and limit, so that both
  // share any drift in the machine's speed (a shared virtual machine's is large).
  seconds: Number(args.seconds ?? (isQuick ? 3 : 8)),
  slices: isQuick ? 2 : 4,
  warmupSeconds: isQuick ? 1 : 2,
  // Postgres can run at most one backend per core; twice that keeps the cores busy while other
  // connections wait on the network or a commit's flush. More only queue inside Postgres, where
  // they contend for locks and CPU, instead of in the pool (README, Performance).
  poolSize: Number(args.pool ?? 2 * availableParallelism()),
  // A fresh process runs slower until V8 has compiled its hot paths: both paths run the mix this
  // long before anything is measured.
  processWarmupSeconds: isQuick ? 4 : 8,
  mergeCost: { ks: isQuick ? [1, 10, 100] : [1, 10, 100, 1000], pairs: isQuick ? 5 : 15 },
  isProfiled: args.profile ?? !isQuick,
  profileKind: (args['profile-kind'] ?? 'mix') as RequestKind,
  // Fresh processes per driver importing the built identify function (bench/cold-start.ts).
  coldStartProcesses: args['cold-start'] ? 5 : 0,
  isThroughputMeasured: args.throughput,
  seed: 20261125,
}

const log = (message: string) =>
  process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${message}\n`)

const server = await startServer(process.env.BENCH_DATABASE_URL)
let port = 41_000 + Math.floor(Math.random() * 1000)
try {
  const version = await withClient(server.adminUrl, async (client) => {
    const { rows } = await client.query<{ version: string }>('select version()')
    return rows[0]?.version ?? 'unknown'
  })
  const machine = describeMachine(version, server.settings)
  log(`machine: ${toMachineLine(machine)}`)

  // First, while no store is loaded: the deployment as `vercel build` produces it, cold.
  let coldStart: ColdStart | null = null
  if (config.coldStartProcesses > 0) {
    log(`cold start: vercel build, then ${config.coldStartProcesses} fresh processes per driver`)
    const database = await createBenchDatabase(server, 'cold')
    try {
      coldStart = await measureColdStart(database.url, config.coldStartProcesses)
    } finally {
      await database.drop()
    }
    for (const run of coldStart.drivers) {
      log(
        `  ${run.driver}, ${run.request} customer: import ${run.importMs} ms, import + first answer ${run.firstAnswerMs} ms, first answer once connected ${run.connectedAnswerMs} ms${run.floor ? `, the floor ${run.floor.firstAnswerMs} ms` : ''}; ${coldStart.sizeMb} MB; load average ${coldStart.loadAverage}`,
      )
    }
  }

  const runs: (RunResult & { rows: number })[] = []
  const loads: BenchResult['loads'] = []
  const scales: Scale[] = []
  let mergeCost: BenchResult['mergeCost'] = null
  let profile: BenchResult['profile'] = null
  let guard: GuardBench | null = null
  let backfill: { figure: unknown; line: string } | null = null
  try {
    for (const rows of [...config.scales].sort((a, b) => a - b)) {
      const scale = await openScale(rows)
      scales.push(scale)
      loads.push({ rows, seconds: scale.loadSeconds, customers: scale.layout.sizes.length })
    }
    const largest = scales.at(-1)
    // --no-throughput: no scale, nothing to measure but the cold start.
    if (largest !== undefined) {
      // Growth: the mix at every scale, the scales taking turns slice by slice, so that a drift in the
      // machine's speed cannot pass for an effect of the table's size.
      for (const concurrency of config.growth.concurrencies) {
        const plan = toPlan(config.growth.kind, concurrency)
        log(`every scale: ${plan.kind} at concurrency ${concurrency}`)
        for (const [scale, results] of await measure(scales, plan)) {
          runs.push(...results.map((result) => ({ ...result, rows: scale.rows })))
          logRun(scale.rows, results)
        }
      }
      // Every kind at every concurrency at the largest scale, but what growth already measured there.
      for (const kind of config.kinds) {
        for (const concurrency of config.concurrencies) {
          if (kind === config.growth.kind && config.growth.concurrencies.includes(concurrency))
            continue
          log(`${largest.rows} rows: ${kind} at concurrency ${concurrency}`)
          for (const [scale, results] of await measure([largest], toPlan(kind, concurrency))) {
            runs.push(...results.map((result) => ({ ...result, rows: scale.rows })))
            logRun(scale.rows, results)
          }
        }
      }
      log(`${largest.rows} rows: merge cost for k = ${config.mergeCost.ks.join(', ')}`)
      mergeCost = await measureMergeCost(
        largest.service,
        largest.url,
        largest.layout.sizes.length,
        config.mergeCost.ks,
        config.mergeCost.pairs,
      )
      log('the guard: placeholder senders, and a 10,000-row split')
      guard = await measureGuard(server.adminUrl, { senders: isQuick ? 2_000 : 5_000 })
      backfill = measureBackfill(server.adminUrl, isQuick ? 100_000 : 1_000_000)
      if (config.isProfiled) {
        log(
          `${largest.rows} rows: CPU profile of the service, ${config.profileKind} at concurrency 16`,
        )
        await largest.service.stop()
        profile = await profileService(largest)
      }
    }
  } finally {
    for (const scale of scales) await scale.close()
  }
  const mergeReserve = scales.map(({ rows, workload }) => ({
    rows,
    laterGeneration: workload.laterGenerationMerges(),
    ofCreated: workload.createdCustomerMerges(),
  }))

  const result: BenchResult = {
    command: `npm run bench${isQuick ? ' -- --quick' : ''}`,
    mode: isQuick ? 'quick' : 'full',
    machine,
    config: { ...config, scales: config.scales },
    loads,
    runs,
    mergeCost,
    profile,
    mergeReserve,
    coldStart,
  }
  const markdown = `${toMarkdown(result)}${guard === null ? '' : `\n\n${toGuardMarkdown(guard)}\n`}${backfill === null ? '' : `\n${backfill.line}\n`}`
  const resultsDir = fileURLToPath(new URL('./results/', import.meta.url))
  mkdirSync(resultsDir, { recursive: true })
  const outPath =
    args.out ??
    join(resultsDir, `${machine.date.replace(/[:.]/g, '-')}${isQuick ? '-quick' : ''}.json`)
  writeFileSync(
    outPath,
    `${JSON.stringify({ ...result, guard, backfill: backfill?.figure ?? null, markdown }, null, 2)}\n`,
  )
  process.stdout.write(`${markdown}\nResult: ${outPath}\n`)
} finally {
  await server.stop()
}

// The backfill's figure (bench/backfill.ts, which runs `npm run backfill` itself), in a process
// of its own on the same server: its last two lines are the figure as JSON, then as a sentence.
function measureBackfill(adminUrl: string, orders: number) {
  log(`the backfill: ${orders.toLocaleString('en')} orders into 100,000 rows`)
  const result = spawnSync(
    process.execPath,
    ['--import', 'tsx', 'bench/backfill.ts', String(orders)],
    {
      env: { ...process.env, BENCH_DATABASE_URL: adminUrl },
      encoding: 'utf8',
      maxBuffer: 64 * 2 ** 20,
    },
  )
  if (result.status !== 0)
    throw new Error(`bench/backfill.ts exited ${result.status}: ${result.stderr}`)
  const [json, line] = result.stdout.trim().split('\n').slice(-2)
  log(line ?? '')
  return { figure: JSON.parse(json ?? 'null') as unknown, line: line ?? '' }
}

function toPlan(kind: RequestKind, concurrency: number): RunPlan {
  return { kind, concurrency }
}

type Scale = Awaited<ReturnType<typeof openScale>>

/**
 * Warms both paths of every scale up on `plan`, then measures them in alternating slices: each
 * scale's service, then its limit, then the next scale's, round after round.
 */
async function measure(scales: Scale[], plan: RunPlan): Promise<Map<Scale, RunResult[]>> {
  for (const scale of scales) {
    await runServiceSlice(scale.service, scale.workload, plan, config.warmupSeconds, scale.probes)
    await runDirectSlice(scale.direct, scale.workload, plan, config.warmupSeconds, scale.probes)
  }
  const accumulators = new Map(
    scales.map((scale) => [
      scale,
      [createAccumulator('service', plan), createAccumulator('limit', plan)] as const,
    ]),
  )
  const seconds = config.seconds / config.slices
  for (let slice = 0; slice < config.slices; slice++) {
    for (const [scale, [viaService, viaLimit]] of accumulators) {
      await runServiceSlice(scale.service, scale.workload, plan, seconds, scale.probes, viaService)
      await runDirectSlice(scale.direct, scale.workload, plan, seconds, scale.probes, viaLimit)
    }
  }
  return new Map(
    [...accumulators].map(([scale, pair]) => [scale, pair.map((each) => each.toResult())]),
  )
}

function logRun(rows: number, [viaService, viaLimit]: RunResult[]) {
  if (viaService === undefined || viaLimit === undefined) return
  log(
    `  ${rows} rows: service ${viaService.throughput}/s p50 ${viaService.latencyMs.p50} ms; limit ${viaLimit.throughput}/s p50 ${viaLimit.latencyMs.p50} ms; other load ${viaService.otherBusyCores} cores`,
  )
}

/**
 * Loads a store of `rows` rows and starts what drives it: the service process, the limit's
 * database handle and a workload, each warmed up on the mix.
 */
async function openScale(rows: number) {
  const store = await prepareStore(rows)
  const workload = createWorkload(store.layout, config.seed + rows)
  const direct = await openDirectDatabase(store.url, config.poolSize)
  const service = await startService({
    databaseUrl: store.url,
    poolSize: config.poolSize,
    port: port++,
  })
  // Both processes are new: warm them up before anything counts.
  const mix16 = toPlan('mix', 16)
  await runServiceSlice(service, workload, mix16, config.processWarmupSeconds, store.probes)
  await runDirectSlice(direct, workload, mix16, config.processWarmupSeconds, store.probes)
  return {
    ...store,
    rows,
    workload,
    direct,
    service,
    close: async () => {
      await service.stop()
      await direct.database.close()
      await store.close()
    },
  }
}

/** A fresh database holding `rows` rows, analysed, with the probes the runners read. */
async function prepareStore(rows: number) {
  const database = await createBenchDatabase(server, `${rows}`)
  const layout: Layout = layOutCustomers(rows, config.seed)
  const started = performance.now()
  const postmasterPid = await withClient(database.url, async (client) => {
    await bulkLoad(client, layout)
    const { rows: pids } = await client.query<{ pid: number }>('select pg_backend_pid() as pid')
    return findParentPid(pids[0]?.pid ?? 0)
  })
  const loadSeconds = Math.round((performance.now() - started) / 100) / 10
  log(`${rows} rows loaded in ${loadSeconds} s`)
  const statsClient = await connect(database.url)
  const probes: Probes = {
    postmasterPid: server.isEmbedded ? postmasterPid : null,
    countStatements: async () => {
      if (!database.hasStatements) return null
      const { rows: counts } = await statsClient.query<{ calls: string }>(
        `select coalesce(sum(calls), 0) as calls from pg_stat_statements
         where dbid = (select oid from pg_database where datname = current_database())
           and query not like '%pg_stat_statements%'`,
      )
      return Number(counts[0]?.calls ?? 0)
    },
  }
  return {
    url: database.url,
    layout,
    loadSeconds,
    probes,
    close: async () => {
      await statsClient.end()
      await database.drop()
    },
  }
}

/**
 * Loads the layout set-based: the secondary indexes are dropped and rebuilt from their own
 * definitions (one sort each instead of a million random inserts), and foreign keys are not
 * re-checked row by row (the layout links every row to its customer's first row by construction).
 */
async function bulkLoad(client: pg.Client, layout: Layout) {
  const { rows: indexes } = await client.query<{ name: string; definition: string }>(
    `select indexname as name, indexdef as definition from pg_indexes
     where tablename = 'Contact' and indexname <> 'Contact_pkey'`,
  )
  await client.query('begin')
  for (const index of indexes) await client.query(`drop index "${index.name}"`)
  await client.query(`set local session_replication_role = replica`)
  await loadCustomers(client, layout, 0)
  await client.query(`set local maintenance_work_mem = '512MB'`)
  for (const index of indexes) await client.query(index.definition)
  await client.query('commit')
  await client.query('vacuum analyze "Contact"')
  // Flush the load now, so the first runs do not pay for its checkpoint.
  await client.query('checkpoint')
  // The rebuilt indexes were written around shared buffers: load them, and the table, so every
  // scale starts from the steady state a serving database is in, not from cold pages.
  try {
    await client.query('create extension if not exists pg_prewarm')
    await client.query(
      `select pg_prewarm(c.oid) from pg_class c
       where c.oid = '"Contact"'::regclass
          or c.oid in (select indexrelid from pg_index where indrelid = '"Contact"'::regclass)`,
    )
  } catch {
    // A server without pg_prewarm (BENCH_DATABASE_URL) warms up during the first runs instead.
  }
}

async function connect(url: string) {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  return client
}

// A backend's parent is the postmaster, whose children are every backend: their CPU is Postgres's.
function findParentPid(pid: number): number | null {
  try {
    const match = readFileSync(`/proc/${pid}/status`, 'utf8').match(/PPid:\s+(\d+)/)
    return match ? Number(match[1]) : null
  } catch {
    return null
  }
}

/** Runs the mix at concurrency 16 against a service started with `--cpu-prof`. */
async function profileService({ url, workload, probes }: Scale) {
  const profileDir = await mkdtemp(join(tmpdir(), 'identity-bench-prof-'))
  const service = await startService({
    databaseUrl: url,
    poolSize: config.poolSize,
    port: port++,
    nodeFlags: ['--cpu-prof', '--cpu-prof-dir', profileDir],
  })
  // Both processes read the same monotonic clock, so the profile can be cut to the measured run.
  const window = { fromUs: 0, toUs: 0 }
  const plan = toPlan(config.profileKind, 16)
  const run = createAccumulator('service', plan)
  try {
    await runServiceSlice(service, workload, plan, config.processWarmupSeconds, probes)
    window.fromUs = Number(process.hrtime.bigint() / 1000n)
    await runServiceSlice(service, workload, plan, config.seconds, probes, run)
    window.toUs = Number(process.hrtime.bigint() / 1000n)
  } finally {
    await service.stop()
  }
  const [file] = readdirSync(profileDir).filter((name) => name.endsWith('.cpuprofile'))
  if (file === undefined) throw new Error('The profiled service wrote no .cpuprofile')
  const summary = summarizeProfile(join(profileDir, file), window)
  if (args['keep-profile'] !== undefined) {
    mkdirSync(args['keep-profile'], { recursive: true })
    cpSync(join(profileDir, file), join(args['keep-profile'], file))
    writeFileSync(join(args['keep-profile'], `${file}.window.json`), JSON.stringify(window))
  }
  rmSync(profileDir, { recursive: true, force: true })
  return { throughput: run.toResult().throughput, ...summary }
}
