// `npm run build:functions`: the last step of vercel.json's buildCommand. It bundles every
// function in api/ with esbuild into one CommonJS file, api/_bundle/<name>.cjs, runs it once to
// save V8's compiled code beside it (<name>.v8cache, scripts/write-code-cache.ts), and writes the
// ES module that loads the two (<name>.js, lib/platform/code-cache.ts). Then it replaces each
// api/<name>.ts by a re-export of that module. @vercel/node, which compiles api/*.ts after the
// build command, then ships the bundle: a cold function loads one file instead of some 400, and
// compiles little of it (docs/decisions/013-cold-start.md).
//
// One file, not chunks: lib/compose.ts and lib/db/open.ts import each handler and each driver
// dynamically, and esbuild keeps that laziness inside one file (a module's code runs only when
// first imported). Split into chunks, each dynamic import became a file of its own, and loading
// ~24 of them cost a cold process more CPU (about 64 ms against 51 here) than parsing the unused
// driver does. CommonJS, because V8's code cache is offered for scripts (node:vm), not modules.
//
// It rewrites api/ in place, so it runs only in a checkout made for one build: Vercel's (which sets
// CI=1) or the copy scripts/build-vercel.ts builds from (BUNDLE_FUNCTIONS_IN_PLACE=1).
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readdirSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { build, type Plugin } from 'esbuild'
import { chooseDriver } from '../lib/db/open.js'
import { BUNDLE_URL_NAME } from '../lib/platform/code-cache.js'
import type { Driver } from '../lib/platform/env.js'

const root = fileURLToPath(new URL('..', import.meta.url))
const apiDir = join(root, 'api')
const outdir = join(apiDir, '_bundle')
const kib = (bytes: number) => Math.round(bytes / 1024)

if (process.env.BUNDLE_FUNCTIONS_IN_PLACE !== '1' && !process.env.CI) {
  console.error(
    'bundle-functions replaces api/*.ts by their bundles, so it runs only in a build checkout: ' +
      'use `npm run build:vercel` (it builds from a copy), or set BUNDLE_FUNCTIONS_IN_PLACE=1 in one',
  )
  process.exit(1)
}

// Every function Vercel deploys: api/*.ts except what Vercel itself skips (`_` or `.` names).
const functions = readdirSync(apiDir)
  .filter((file) => file.endsWith('.ts') && !file.startsWith('_') && !file.startsWith('.'))
  .map((file) => file.slice(0, -'.ts'.length))

// A function loads one driver, the one its deployment is configured for (lib/db/open.ts): the
// build runs with the deployment's environment, and Vercel applies a changed environment only to
// a new build. The others are stubs that say so; PGlite never runs on Vercel (a deployment without
// DATABASE_URL fails at start, and vercel.json excludes the package).
const driver = chooseDriver({
  DATABASE_URL: process.env.DATABASE_URL,
  DATABASE_DRIVER: process.env.DATABASE_DRIVER as Driver | undefined,
})
if (driver === 'pglite') {
  console.error('bundle-functions: a deployment needs DATABASE_URL (and no DATABASE_DRIVER=pglite)')
  process.exit(1)
}
const DRIVER_MODULES: Record<Driver, string> = {
  'neon-http': 'neon-http.js',
  'node-postgres': 'node-postgres.js',
  pglite: 'pglite.js',
}
const onlyConfiguredDriver: Plugin = {
  name: 'only-configured-driver',
  setup(bundler) {
    bundler.onResolve({ filter: /^\.\/[\w-]+\.js$/ }, ({ path, importer }) => {
      if (!importer.endsWith(join('lib', 'db', 'open.ts'))) return null
      const other = Object.entries(DRIVER_MODULES).find(
        ([name, module]) => path === `./${module}` && name !== driver,
      )
      return other === undefined ? null : { path: other[0], namespace: 'other-driver' }
    })
    bundler.onLoad({ filter: /.*/, namespace: 'other-driver' }, ({ path }) => ({
      contents: `throw new Error('This deployment was built for the ${driver} driver, not ${path}: deploy again to use another')`,
      loader: 'js',
    }))
  },
}

// @vercel/functions (for waitUntil) also holds a WebSocket helper that imports the `ws` package
// when called; nothing here calls it, so a function does not carry it.
const withoutWebSockets: Plugin = {
  name: 'without-websockets',
  setup(bundler) {
    bundler.onResolve({ filter: /^ws$/ }, () => ({ path: 'ws', namespace: 'no-websockets' }))
    bundler.onLoad({ filter: /.*/, namespace: 'no-websockets' }, () => ({
      contents: "throw new Error('WebSockets are not part of the Vercel functions')",
      loader: 'js',
    }))
  },
}

// pg hashes passwords through Web Crypto, which costs a cold function's first login about 4 ms
// to load; lib/db/pg-crypto.ts does the same with node:crypto (tests/pg-crypto.test.ts).
const pgCrypto = join(root, 'lib', 'db', 'pg-crypto.ts')
const withSyncPgCrypto: Plugin = {
  name: 'sync-pg-crypto',
  setup(bundler) {
    bundler.onResolve({ filter: /^\.\/(crypto\/)?utils$/ }, ({ path, importer }) => {
      const fromPg = importer.includes(join('node_modules', 'pg', 'lib'))
      const isCrypto = path === './crypto/utils' || importer.endsWith(join('crypto', 'sasl.js'))
      return fromPg && isCrypto ? { path: pgCrypto } : null
    })
  },
}

// Each function: its code as one CommonJS file (api/_bundle/<name>.cjs), and the ES module Vercel
// loads (api/_bundle/<name>.js), which runs it through V8's code cache (lib/platform/code-cache.ts).
await Promise.all(
  functions.map(async (name) => {
    const bundled = await build({
      absWorkingDir: root,
      entryPoints: [join(apiDir, `${name}.ts`)],
      outfile: join(outdir, `${name}.cjs`),
      bundle: true,
      format: 'cjs',
      platform: 'node',
      target: 'node20',
      // Less to read, hold and compile: a cold start pays for every byte of the source. Local names
      // are shortened too; errors keep the names they set themselves, and no log line holds a
      // stack trace.
      minify: true,
      legalComments: 'none',
      // ASCII only (non-ASCII text is escaped), so the loader reads it as Latin-1: a plain copy.
      charset: 'ascii',
      logLevel: 'warning',
      plugins: [onlyConfiguredDriver, withoutWebSockets, withSyncPgCrypto],
      // pg's optional native binding, not installed.
      external: ['pg-native'],
      define: { 'import.meta.url': BUNDLE_URL_NAME },
      metafile: true,
    })
    // node:vm runs the bundle without a module loader, so it cannot import() what it does not hold.
    const outside = Object.values(bundled.metafile.outputs)
      .flatMap((output) => output.imports)
      .filter((entry) => entry.kind === 'dynamic-import' && entry.external)
    if (outside.length > 0) {
      throw new Error(
        `api/${name}.ts imports ${outside.map((entry) => entry.path).join(', ')} dynamically from outside its bundle`,
      )
    }
    await build({
      absWorkingDir: root,
      stdin: {
        contents: [
          "import { runCachedBundle } from './lib/platform/code-cache.ts'",
          `const { exports, isCacheUsed } = runCachedBundle(new URL('./${name}.cjs', import.meta.url), new URL('./${name}.v8cache', import.meta.url))`,
          // The function began connecting to its database as it loaded (lib/compose.ts,
          // composeFunction). One turn of the event loop sends what the connection has to send
          // now, so the server sets its session up while the first request is being read.
          'await new Promise((resolve) => setImmediate(resolve))',
          'export default exports.default',
          // Whether V8 took the cache: tests/vercel-build.test.ts reads it; api/ re-exports only default.
          'export const isCodeCacheUsed = isCacheUsed',
        ].join('\n'),
        resolveDir: root,
        sourcefile: `${name}-loader.ts`,
        loader: 'ts',
      },
      outfile: join(outdir, `${name}.js`),
      bundle: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      logLevel: 'warning',
    })
    await writeCodeCache(name)
    writeFileSync(
      join(apiDir, `${name}.ts`),
      [
        '// @ts-nocheck: generated during the Vercel build by scripts/bundle-functions.ts; the source',
        '// of this function is in git. This re-exports its bundle.',
        `export { default } from './_bundle/${name}.js'`,
        '',
      ].join('\n'),
    )
    const bytes = statSync(join(outdir, `${name}.cjs`)).size
    const cache = statSync(join(outdir, `${name}.v8cache`)).size
    console.log(
      `api/${name}.ts: bundled for ${driver} into api/_bundle/${name}.cjs, ${kib(bytes)} KiB, code cache ${kib(cache)} KiB`,
    )
  }),
)

// Writes api/_bundle/<name>.v8cache in a fresh process (scripts/write-code-cache.ts) whose keys
// only it knows, so its one request is refused before it reaches the database.
async function writeCodeCache(name: string): Promise<void> {
  const key = randomBytes(24).toString('hex')
  await promisify(execFile)(
    process.execPath,
    [
      '--import',
      'tsx',
      join(root, 'scripts', 'write-code-cache.ts'),
      join(outdir, `${name}.cjs`),
      name,
    ],
    {
      cwd: root,
      env: {
        PATH: process.env.PATH ?? '',
        ...pick(process.env, ['DATABASE_URL', 'DATABASE_DRIVER', 'NEON_HTTP_ENDPOINT']),
        IDENTIFY_API_KEYS: key,
        ADMIN_API_KEYS: randomBytes(24).toString('hex'),
        CRON_SECRET: randomBytes(24).toString('hex'),
      },
    },
  )
}

function pick(source: NodeJS.ProcessEnv, names: string[]): Record<string, string> {
  return Object.fromEntries(
    names.flatMap((name) => (source[name] === undefined ? [] : [[name, source[name]]])),
  )
}
