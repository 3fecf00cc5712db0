// `npm run build:functions`: the last step of vercel.json's buildCommand. It bundles every
// function in api/ with esbuild into one file, api/_bundle/<name>.js, then replaces each
// api/<name>.ts by a re-export of its bundle. @vercel/node, which compiles api/*.ts after the build
// command, then ships the bundle: a cold function loads one file instead of some 400
// (docs/decisions/013-cold-start.md).
//
// One file, not chunks: lib/compose.ts and lib/db/open.ts import each handler and each driver
// dynamically, and esbuild keeps that laziness inside one file (a module's code runs only when
// first imported). Split into chunks, each dynamic import became a file of its own, and loading
// ~24 of them cost a cold process more CPU (about 64 ms against 51 here) than parsing the unused
// driver does.
//
// It rewrites api/ in place, so it runs only in a checkout made for one build: Vercel's (which sets
// CI=1) or the copy scripts/build-vercel.ts builds from (BUNDLE_FUNCTIONS_IN_PLACE=1).
import { readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build, type Plugin } from 'esbuild'

const root = fileURLToPath(new URL('..', import.meta.url))
const apiDir = join(root, 'api')
const outdir = join(apiDir, '_bundle')

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

// PGlite never runs on Vercel (a deployment without DATABASE_URL fails at start, and vercel.json
// excludes the package): in a function, its driver is a stub that says so.
const withoutPglite: Plugin = {
  name: 'without-pglite',
  setup(bundler) {
    bundler.onResolve({ filter: /^\.\/pglite\.js$/ }, ({ importer }) =>
      importer.endsWith(join('lib', 'db', 'open.ts'))
        ? { path: 'pglite', namespace: 'stub' }
        : null,
    )
    bundler.onLoad({ filter: /.*/, namespace: 'stub' }, () => ({
      contents:
        "export function openPglite() { throw new Error('PGlite is not part of the Vercel functions: set DATABASE_URL') }",
      loader: 'js',
    }))
  },
}

const results = await Promise.all(
  functions.map((name) =>
    build({
      absWorkingDir: root,
      entryPoints: [join(apiDir, `${name}.ts`)],
      outfile: join(outdir, `${name}.js`),
      bundle: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      metafile: true,
      logLevel: 'warning',
      plugins: [withoutPglite],
      // pg's optional native binding, not installed.
      external: ['pg-native'],
      // CommonJS dependencies (pg) require Node's built-ins, which an ES module has no `require` for.
      banner: {
        js: "import { createRequire as __bundleRequire } from 'node:module'; const require = __bundleRequire(import.meta.url);",
      },
    }),
  ),
)
for (const [index, name] of functions.entries()) {
  const output = Object.entries(results[index]?.metafile.outputs ?? {})[0]
  if (output === undefined) throw new Error(`esbuild wrote no bundle for api/${name}.ts`)
  const [path, meta] = output
  writeFileSync(
    join(apiDir, `${name}.ts`),
    [
      '// @ts-nocheck: generated during the Vercel build by scripts/bundle-functions.ts; the source',
      '// of this function is in git. This re-exports its bundle.',
      `export { ${meta.exports.join(', ')} } from './_bundle/${name}.js'`,
      '',
    ].join('\n'),
  )
  console.log(`api/${name}.ts: bundled into ${path}, ${Math.round(meta.bytes / 1024)} KiB`)
}
