// The deployed identify function's cold start: `vercel build` (offline, scripts/build-vercel.ts)
// produces it, then fresh Node.js processes each import it and answer one identify request,
// through node-postgres and through Neon's HTTP driver (via the local Neon protocol proxy), each
// from a build made for that driver.
import { execFile, spawn } from 'node:child_process'
import { lstat, mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { Placeholder, sql } from 'drizzle-orm'
import { drizzle } from 'drizzle-orm/node-postgres'
import { build } from 'esbuild'
import { startNeonHttpProxy } from '../harness/neon-http-proxy.js'
import type { Db } from '../lib/db/database.js'
import { selectCluster, throughUnblocked } from '../lib/identify/cluster-read.js'
import type { FloorRead } from './cold-floor/statement.js'
import { readMachineBusyMs, readProcessAndReapedCpuMs } from './machine.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const round = (value: number, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] ?? 0
}

/** The first request a cold function answers: a new customer, or a returning one. */
export type ColdRequest = 'new' | 'returning'

/** One driver's cold starts: medians (and every run) of import and import + first answer. */
export type ColdStartRun = {
  driver: 'node-postgres' | 'neon-http'
  request: ColdRequest
  importMs: number
  firstAnswerMs: number
  /** Node's own first Request and Response, before the clock starts (see CHILD). */
  platformMs: number
  /** CPU time the process spent from import to answer: steadier than the clock on a busy machine. */
  cpuMs: number
  runs: { importMs: number; firstAnswerMs: number; platformMs: number; cpuMs: number }[]
  /**
   * The first request alone, in as many other fresh processes, each sent once the function's
   * connection was open and warmed up: what the function's own code costs a first request, apart
   * from the server's start-up of a backend.
   */
  connectedAnswerMs: number
  connectedCpuMs: number
  connectedRuns: { answerMs: number; cpuMs: number }[]
  /**
   * The floor (bench/cold-floor/), for a returning customer only: the least any function answering
   * through this driver does (load the driver, connect as it loads, send the same cluster read,
   * answer its rows as JSON), in as many fresh processes, alternating with the function's.
   */
  floor: { importMs: number; firstAnswerMs: number; cpuMs: number; runs: number[] } | null
}

/** The built identify function's size and its cold starts per driver. */
export type ColdStart = {
  function: string
  sizeMb: number
  files: number
  buildSeconds: number
  /** The 1-minute load average as the runs began, every process of the machine included. */
  loadAverage: number
  /** Cores kept busy by other processes than the bench and its children during the runs. */
  otherBusyCores: number
  drivers: ColdStartRun[]
}

// Runs in a fresh `node` (no tsx, no loader): imports the built function as Vercel's launcher
// would, then answers one identify request with an email and a phone number, as a checkout sends
// them: a new customer (a read, then the write transaction) or a returning one (one read). The
// clock starts before the import. Node.js 20 loads its fetch implementation on the first Request
// (~15 ms here); on Vercel the launcher pays that for any function, so it is paid, and reported,
// before the clock starts. With 'connected', the request is sent only once the function's
// connection has opened and warmed up (lib/compose.ts, composeFunction), and timed on its own:
// the function's own first-request work, without the server's part (a backend's start-up).
const CHILD = `
const isConnected = process.argv[3] === 'connected'
let started = performance.now()
await new Response(new Request('https://warm.test/', { method: 'POST', body: '{}' }).body).text()
const platformMs = performance.now() - started
started = performance.now()
const cpu = process.cpuUsage()
const module = await import(process.argv[1])
const imported = performance.now()
if (isConnected) {
  await module.default.connected
  await new Promise((resolve) => setTimeout(resolve, 20))
}
const asked = performance.now()
const askedCpu = process.cpuUsage()
const response = await module.default.fetch(new Request('https://identity.test/identify', {
  method: 'POST',
  headers: { 'content-type': 'application/json', 'x-request-id': 'cold-start' },
  body: JSON.stringify(process.argv[2] === 'new'
    ? { email: 'cold-' + process.pid + '-' + Date.now() + '@example.com', phoneNumber: '+1415' + (2000000 + ((process.pid * 7919 + Date.now()) % 8000000)) }
    : { email: 'returning@example.com', phoneNumber: '+12025550143' }),
}))
await response.text()
const answered = performance.now()
const cpuMs = (usage) => (usage.user + usage.system) / 1000
process.stderr.write(JSON.stringify({ status: response.status, platformMs, importMs: imported - started, firstAnswerMs: answered - started, cpuMs: cpuMs(process.cpuUsage(cpu)), requestMs: answered - asked, requestCpuMs: cpuMs(process.cpuUsage(askedCpu)) }) + '\\n')
process.exit(0)
`

/**
 * Builds the deployment into a temporary folder against `databaseUrl` (which the build migrates)
 * once per driver, as a deployment configured for that driver is built (the build warms V8's code
 * cache through it), then measures `processes` fresh processes per driver.
 */
export async function measureColdStart(databaseUrl: string, processes = 5): Promise<ColdStart> {
  const proxy = await startNeonHttpProxy({ connectionString: databaseUrl })
  try {
    const environments = {
      'node-postgres': { DATABASE_URL: databaseUrl, DATABASE_DRIVER: 'node-postgres' },
      'neon-http': {
        DATABASE_URL: databaseUrl,
        DATABASE_DRIVER: 'neon-http',
        NEON_HTTP_ENDPOINT: proxy.url,
      },
    } as const
    const drivers: ColdStartRun[] = []
    const builds: { seconds: number; files: number[] }[] = []
    const loadAverage = round(loadavg()[0] ?? 0, 2)
    let busy = { seconds: 0, other: 0 }
    for (const [driver, env] of Object.entries(environments)) {
      const output = await mkdtemp(join(tmpdir(), 'identity-bench-vercel-'))
      try {
        const started = performance.now()
        await promisify(execFile)(
          join(ROOT, 'node_modules', '.bin', 'tsx'),
          ['scripts/build-vercel.ts', '--output', output],
          { cwd: ROOT, env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024 },
        ).catch((error: { stdout?: string; stderr?: string }) => {
          throw new Error(`vercel build failed:\n${error.stdout}\n${error.stderr}`)
        })
        const func = join(output, 'functions', 'api', 'identify.func')
        builds.push({ seconds: (performance.now() - started) / 1000, files: await listSizes(func) })
        const config = JSON.parse(await readFile(join(func, '.vc-config.json'), 'utf8')) as {
          handler: string
        }
        const handler = pathToFileURL(join(func, config.handler)).href
        const floor = await buildFloor(driver as ColdStartRun['driver'], output)
        const floorEnv = { ...env, FLOOR_READ: JSON.stringify(toFloorRead()) }
        const before = { at: performance.now(), machine: readMachineBusyMs(), own: ownCpuMs() }
        // The returning customer exists before any run is measured.
        await runOnce(handler, func, env, 'returning', 'cold')
        for (const request of ['new', 'returning'] as const) {
          const runs = []
          const connectedRuns = []
          const floorRuns = []
          // Alternating, so all share whatever the machine's speed does meanwhile.
          for (let run = 0; run < processes; run++) {
            runs.push(await runOnce(handler, func, env, request, 'cold'))
            if (request === 'returning') {
              floorRuns.push(await runOnce(floor, output, floorEnv, request, 'cold'))
            }
            const { requestMs, requestCpuMs } = await runOnce(
              handler,
              func,
              env,
              request,
              'connected',
            )
            connectedRuns.push({ answerMs: requestMs, cpuMs: requestCpuMs })
          }
          drivers.push({
            driver: driver as ColdStartRun['driver'],
            request,
            importMs: round(median(runs.map((each) => each.importMs))),
            firstAnswerMs: round(median(runs.map((each) => each.firstAnswerMs))),
            platformMs: round(median(runs.map((each) => each.platformMs))),
            cpuMs: round(median(runs.map((each) => each.cpuMs))),
            runs: runs.map(({ importMs, firstAnswerMs, platformMs, cpuMs }) => ({
              importMs,
              firstAnswerMs,
              platformMs,
              cpuMs,
            })),
            connectedAnswerMs: round(median(connectedRuns.map((each) => each.answerMs))),
            connectedCpuMs: round(median(connectedRuns.map((each) => each.cpuMs))),
            connectedRuns,
            floor:
              floorRuns.length === 0
                ? null
                : {
                    importMs: round(median(floorRuns.map((each) => each.importMs))),
                    firstAnswerMs: round(median(floorRuns.map((each) => each.firstAnswerMs))),
                    cpuMs: round(median(floorRuns.map((each) => each.cpuMs))),
                    runs: floorRuns.map((each) => each.firstAnswerMs),
                  },
          })
        }
        busy = {
          seconds: busy.seconds + (performance.now() - before.at) / 1000,
          other: busy.other + readMachineBusyMs() - before.machine - (ownCpuMs() - before.own),
        }
      } finally {
        await rm(output, { recursive: true, force: true })
      }
    }
    const files = builds[0]?.files ?? []
    return {
      function: 'api/identify',
      sizeMb: round(files.reduce((sum, size) => sum + size, 0) / 1024 / 1024, 2),
      files: files.length,
      buildSeconds: round(Math.max(...builds.map((build) => build.seconds)), 1),
      loadAverage,
      otherBusyCores: round(Math.max(0, busy.other) / 1000 / busy.seconds, 2),
      drivers,
    }
  } finally {
    await proxy.close()
  }
}

/** What one fresh process measured (CHILD): the cold start, and the first request on its own. */
type OneRun = ColdStartRun['runs'][number] & { requestMs: number; requestCpuMs: number }

// One fresh process: its own cwd (the function's folder, as on Vercel) and only the function's
// environment, so nothing of the bench's process leaks into what is measured.
function runOnce(
  handler: string,
  cwd: string,
  env: Record<string, string>,
  request: ColdRequest,
  mode: 'cold' | 'connected',
) {
  return new Promise<OneRun>((resolve, reject) => {
    const args = ['--input-type=module', '-e', CHILD, handler, request, mode]
    const child = spawn(process.execPath, args, {
      cwd,
      env: { PATH: process.env.PATH ?? '', VERCEL_ENV: 'preview', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    let stderr = ''
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString()
    })
    child.on('error', reject)
    child.on('exit', () => {
      const line = stderr.trim().split('\n').at(-1) ?? ''
      try {
        const result = JSON.parse(line) as OneRun & { status: number }
        if (result.status !== 200) throw new Error(`answered ${result.status}`)
        resolve({
          importMs: round(result.importMs),
          firstAnswerMs: round(result.firstAnswerMs),
          platformMs: round(result.platformMs),
          cpuMs: round(result.cpuMs),
          requestMs: round(result.requestMs),
          requestCpuMs: round(result.requestCpuMs),
        })
      } catch (error) {
        reject(new Error(`cold start failed: ${String(error)}\n${stderr}`))
      }
    })
  })
}

// Bundles the driver's floor function (bench/cold-floor/) into `dir` as one minified ES module,
// as the real function is bundled, and returns its URL.
async function buildFloor(driver: ColdStartRun['driver'], dir: string): Promise<string> {
  const outfile = join(dir, `floor-${driver}.mjs`)
  await build({
    entryPoints: [join(ROOT, 'bench', 'cold-floor', `${driver}.ts`)],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    minify: true,
    logLevel: 'warning',
    external: ['pg-native'],
    // pg is CommonJS: its require() of Node's modules needs one in an ES module.
    banner: {
      js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
    },
  })
  return pathToFileURL(outfile).href
}

// Identify's cluster read as the floor functions send it: its text, and where the keys go.
function toFloorRead(): FloorRead {
  const query = selectCluster(
    drizzle.mock() as unknown as Db,
    throughUnblocked({
      emailKey: sql.placeholder('emailKey'),
      phoneKey: sql.placeholder('phoneKey'),
    }),
  ).toSQL()
  return {
    text: query.sql,
    params: query.params.map((param) =>
      param instanceof Placeholder
        ? { key: param.name === 'emailKey' ? 'emailKey' : 'phoneKey' }
        : { value: param },
    ),
  }
}

// The bench's own CPU and that of the processes it ran and reaped: the proxy runs in this process.
const ownCpuMs = () => readProcessAndReapedCpuMs(process.pid)

async function listSizes(dir: string): Promise<number[]> {
  const paths = await readdir(dir, { recursive: true })
  const stats = await Promise.all(paths.map((path) => lstat(join(dir, path))))
  return stats.filter((stat) => !stat.isDirectory()).map((stat) => stat.size)
}
