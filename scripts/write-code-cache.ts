// `node --import tsx scripts/write-code-cache.ts api/_bundle/<name>.cjs <name>`: run by
// scripts/bundle-functions.ts for each function it bundles. Loads the bundle, sends it one request
// that every handler refuses before any database work, and writes what V8 compiled meanwhile to
// api/_bundle/<name>.v8cache (lib/platform/code-cache.ts).
//
// The parent gives this process keys only it knows: identify gets a valid one and a valid body
// whose identifiers a built-in rule blocks (a no-reply mailbox, a phone of zeros), so its parsing,
// validation and match keys are compiled too and it answers 422 before any database work; every
// other function gets no key at all, and answers 401. Building a deployment never writes to the
// database through this: it only connects, as the function does when it loads, and warms the
// connection up with a read that matches nothing. Then identify rehearses the rest of a checkout
// (lib/identify/rehearsal.ts), building its statements without sending them.
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
const handler = exports.default as {
  fetch: (request: Request) => Promise<Response>
  connected: Promise<void>
  rehearse: () => Promise<void>
}
const BUILT_IN_BLOCKED = JSON.stringify({ email: 'noreply@example.com', phoneNumber: '0000000000' })
const key = name === 'identify' ? process.env.IDENTIFY_API_KEYS : undefined
const response = await handler.fetch(
  new Request(`https://build.invalid/api/${name}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(key === undefined ? {} : { authorization: `Bearer ${key}` }),
    },
    body: name === 'identify' ? BUILT_IN_BLOCKED : '{}',
  }),
)
await response.arrayBuffer()
// A refusal is what the request is for; anything else means it went further than it may.
const refusals = name === 'identify' ? [422] : [401, 405]
if (!refusals.includes(response.status)) {
  throw new Error(`api/${name} answered the build's request with ${response.status}`)
}
// The connection the function opens as it loads (lib/compose.ts, composeFunction) has run its
// warm-up by now, so that code is compiled too; it reads, with no keys, and writes nothing.
await handler.connected
// What that request stops short of, run on made-up checkouts with nothing sent to the database: a
// phone number parsed, customers planned and answered, write statements built, not run
// (lib/identify/rehearsal.ts).
await handler.rehearse()
writeFileSync(bundle.pathname.replace(/\.cjs$/, '.v8cache'), script.createCachedData())
process.exit(0)
