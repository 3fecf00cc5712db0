// `npm run build:functions`: the last step of vercel.json's buildCommand. It bundles every
// function in api/ with esbuild into api/_bundle/ (code shared by several functions, and each
// database driver, in chunks of their own), then replaces each api/<name>.ts by a re-export of its
// bundle. @vercel/node, which compiles api/*.ts after the build command, then ships the bundle: a
// cold function loads a few files instead of some 400 (docs/decisions/011-cold-start.md).
//
// It rewrites api/ in place, so it runs only in a checkout made for one build: Vercel's (which sets
// CI=1) or the copy scripts/build-vercel.ts builds from (BUNDLE_FUNCTIONS_IN_PLACE=1).
import { readdirSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

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

const result = await build({
  absWorkingDir: root,
  entryPoints: functions.map((name) => ({ in: join(apiDir, `${name}.ts`), out: name })),
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  metafile: true,
  logLevel: 'warning',
  // PGlite is never chosen on Vercel and vercel.json excludes it from every function; pg-native is
  // pg's optional native binding, not installed.
  external: ['@electric-sql/pglite', 'pg-native'],
  // CommonJS dependencies (pg) require Node's built-ins, which an ES module has no `require` for.
  banner: {
    js: "import { createRequire as __bundleRequire } from 'node:module'; const require = __bundleRequire(import.meta.url);",
  },
})

for (const name of functions) {
  const output = Object.entries(result.metafile.outputs).find(
    ([, meta]) =>
      meta.entryPoint !== undefined && join(root, meta.entryPoint) === join(apiDir, `${name}.ts`),
  )
  if (output === undefined) throw new Error(`esbuild wrote no bundle for api/${name}.ts`)
  const [path, meta] = output
  const target = `./${relative(apiDir, join(root, path)).split('\\').join('/')}`
  writeFileSync(
    join(apiDir, `${name}.ts`),
    [
      '// @ts-nocheck: generated during the Vercel build by scripts/bundle-functions.ts; the source',
      '// of this function is in git. This re-exports its bundle.',
      `export { ${meta.exports.join(', ')} } from '${target}'`,
      '',
    ].join('\n'),
  )
}
const bytes = Object.values(result.metafile.outputs).reduce((sum, meta) => sum + meta.bytes, 0)
console.log(
  `bundled ${functions.length} functions into api/_bundle/: ${Object.keys(result.metafile.outputs).length} files, ${Math.round(bytes / 1024)} KiB`,
)
