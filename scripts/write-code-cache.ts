// `node --import tsx scripts/write-code-cache.ts api/_bundle/<name>.cjs <name>`: run by
// scripts/bundle-functions.ts for each function it bundles. Loads the bundle, sends it one request
// that every handler refuses before any database work, and writes what V8 compiled meanwhile to
// api/_bundle/<name>.v8cache (lib/platform/code-cache.ts).
//
// The parent gives this process keys only it knows: identify gets a valid one and a body that
// fails validation (so its parsing and validation are compiled too), every other function no key
// at all. Neither reaches the database, so building a deployment never writes to it.
import { writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { runBundle } from '../lib/platform/code-cache.js'

const [bundlePath, name] = process.argv.slice(2)
if (bundlePath === undefined || name === undefined) {
  throw new Error('usage: write-code-cache.ts <bundle.cjs> <function name>')
}
const bundle = pathToFileURL(resolve(bundlePath))
const { exports, script } = runBundle(bundle)
const handler = exports.default as { fetch: (request: Request) => Promise<Response> }
const key = name === 'identify' ? process.env.IDENTIFY_API_KEYS : undefined
const response = await handler.fetch(
  new Request(`https://build.invalid/api/${name}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(key === undefined ? {} : { authorization: `Bearer ${key}` }),
    },
    body: '{}',
  }),
)
await response.arrayBuffer()
// A refusal (400, 401, 405) is what the request is for; anything else means it went further.
if (response.status < 400 || response.status >= 500) {
  throw new Error(`api/${name} answered the build's request with ${response.status}`)
}
writeFileSync(bundle.pathname.replace(/\.cjs$/, '.v8cache'), script.createCachedData())
process.exit(0)
