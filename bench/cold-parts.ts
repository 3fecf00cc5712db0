// `npx tsx bench/cold-parts.ts [--processes 7]`: what each package the identify function carries
// costs a cold process here (README, Performance, "Issue 14, fifth round"). Each part is bundled
// alone as the function is (esbuild, CommonJS, minified), run once to save V8's code cache, then
// loaded through node:vm with that cache in fresh processes: the median time from reading the
// file to the end of its top level, and of its first use where it has one. Parts overlap (the
// drizzle lines include their driver), and a part's cost in the whole bundle can differ a little.
import { execFile } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs, promisify } from 'node:util'
import { build } from 'esbuild'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const { values: args } = parseArgs({ options: { processes: { type: 'string', default: '7' } } })

// Each part: the import the function makes, and, where it has one, what its first request does.
const PARTS: { name: string; contents: string }[] = [
  { name: 'pg', contents: "import pg from 'pg'; export const use = () => pg" },
  {
    name: '@neondatabase/serverless',
    contents: "import { neon } from '@neondatabase/serverless'; export const use = () => neon",
  },
  {
    name: 'drizzle-orm/node-postgres (with pg)',
    contents:
      "import { drizzle } from 'drizzle-orm/node-postgres'; export const use = () => drizzle",
  },
  {
    name: 'drizzle-orm/neon-http (with the Neon driver)',
    contents: "import { drizzle } from 'drizzle-orm/neon-http'; export const use = () => drizzle",
  },
  {
    name: 'libphonenumber-js/max',
    contents:
      "import { parsePhoneNumberFromString } from 'libphonenumber-js/max'; export const use = () => parsePhoneNumberFromString",
  },
  {
    name: 'libphonenumber-js/max, first number keyed',
    contents:
      "import { parsePhoneNumberFromString } from 'libphonenumber-js/max'; export const use = () => parsePhoneNumberFromString('+12025550143')?.isValid()",
  },
  {
    name: 'valibot, first object parsed',
    contents:
      "import * as v from 'valibot'; export const use = () => v.safeParse(v.object({ email: v.nullish(v.string()) }), { email: 'a@example.com' })",
  },
]

// Runs in a fresh `node`: with 'write', runs the part once and saves its code cache; otherwise
// loads it with that cache and prints the milliseconds.
// As in bench/cold-start.ts, Node's own first Request (which loads its networking modules) is
// made before the clock starts.
const CHILD = `
;(async () => {
await new Response(new Request('https://warm.test/', { method: 'POST', body: '{}' }).body).text()
const { readFileSync, writeFileSync } = require('node:fs')
const { Script } = require('node:vm')
const [file, mode] = process.argv.slice(1)
const started = performance.now()
const source = '(function (exports, require, module) {' + readFileSync(file, 'latin1') + '\\n})'
const script = new Script(source, { filename: file, ...(mode === 'write' ? {} : { cachedData: readFileSync(file + '.v8cache') }) })
const module = { exports: {} }
script.runInThisContext()(module.exports, require, module)
module.exports.use()
const ms = performance.now() - started
if (mode === 'write') writeFileSync(file + '.v8cache', script.createCachedData())
else if (script.cachedDataRejected) throw new Error('code cache rejected')
else process.stdout.write(String(ms))
})()
`

const run = (file: string, mode: 'write' | 'load') =>
  promisify(execFile)(process.execPath, ['-e', CHILD, file, mode], { cwd: ROOT }).then(
    ({ stdout }) => Number(stdout),
  )

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0

const dir = await mkdtemp(join(tmpdir(), 'identity-cold-parts-'))
try {
  process.stdout.write('| part | bundle KiB | cold load ms, median |\n| --- | ---: | ---: |\n')
  for (const [index, part] of PARTS.entries()) {
    const file = join(dir, `part-${index}.cjs`)
    const built = await build({
      stdin: { contents: part.contents, resolveDir: ROOT, loader: 'js' },
      outfile: file,
      bundle: true,
      format: 'cjs',
      platform: 'node',
      target: 'node20',
      minify: true,
      charset: 'ascii',
      external: ['pg-native'],
      logLevel: 'warning',
      metafile: true,
    })
    const bytes = Object.values(built.metafile.outputs)[0]?.bytes ?? 0
    await run(file, 'write')
    const times: number[] = []
    for (let process = 0; process < Number(args.processes); process++) {
      times.push(await run(file, 'load'))
    }
    const kib = Math.round(bytes / 1024)
    process.stdout.write(`| ${part.name} | ${kib} | ${median(times).toFixed(1)} |\n`)
  }
} finally {
  await rm(dir, { recursive: true, force: true })
}
