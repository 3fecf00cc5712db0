import { once } from 'node:events'
import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import { DatabaseError, Pool, type PoolClient, type QueryArrayResult, types } from 'pg'

/**
 * A local stand-in for Neon's SQL-over-HTTP endpoint (the protocol `neon()` from
 * @neondatabase/serverless speaks), executing on a real Postgres through `pg`. It lets tests run the
 * production path, drizzle-orm/neon-http over `neon()`, without internet. Point the driver at it
 * with `neonConfig.fetchEndpoint = proxy.url`; the driver accepts a plain `http://` endpoint.
 */
export type NeonHttpProxy = {
  /** The full fetch endpoint, e.g. `http://127.0.0.1:PORT/sql`. */
  url: string
  /** HTTP requests received since start or the last reset, whatever their outcome. */
  requests: () => number
  resetRequests: () => void
  /** Makes every later request wait `ms` before it runs, as a slow or distant endpoint would. */
  setDelay: (ms: number) => void
  close: () => Promise<void>
}

/** A request the proxy refuses before reaching Postgres (answered with HTTP 400, as Neon does). */
class BadRequestError extends Error {}

type Backend = { pool: Pool; arrayElementTypes?: Map<number, number> }
type OutputOptions = { rawTextOutput: boolean; arrayMode: boolean }
type Statement = { query: string; params: unknown[]; arrayMode: boolean }
type Reply = { status: number; body: unknown }

const isolationLevels: Record<string, string> = {
  ReadUncommitted: 'READ UNCOMMITTED',
  ReadCommitted: 'READ COMMITTED',
  RepeatableRead: 'REPEATABLE READ',
  Serializable: 'SERIALIZABLE',
}

// The fields Neon copies from a Postgres error into its JSON body; the driver copies them onto its
// NeonDbError.
const errorFields = [
  'severity',
  'code',
  'detail',
  'hint',
  'position',
  'internalPosition',
  'internalQuery',
  'where',
  'schema',
  'table',
  'column',
  'dataType',
  'constraint',
  'file',
  'line',
  'routine',
] as const

// Leaves every value as the text Postgres sent, which is what Neon returns in raw text mode.
const keepText = { getTypeParser: () => (text: string) => text }

/**
 * Starts the proxy on an ephemeral port of 127.0.0.1. Every query runs on `connectionString`,
 * whatever database the request's Neon-Connection-String header names; Authorization is ignored.
 */
export async function startNeonHttpProxy(options: {
  connectionString: string
}): Promise<NeonHttpProxy> {
  const backend: Backend = {
    pool: new Pool({
      connectionString: options.connectionString,
      max: 20,
      // Lets a test find the proxy's backends in pg_stat_activity, e.g. to terminate them.
      application_name: 'neon-http-proxy',
    }),
  }
  // A client whose backend dies (pg_terminate_backend, server restart) emits 'error': the pool
  // re-emits it for idle clients, but nothing listens on checked-out ones. Unhandled, either would
  // crash the test process. The failure already reaches the query in flight, and the pool discards
  // the dead client, so there is nothing more to do.
  backend.pool.on('error', () => {})
  backend.pool.on('connect', (client) => client.on('error', () => {}))

  let requestCount = 0
  let delayMs = 0
  const server = createServer((request, response) => {
    requestCount += 1
    void answerRequest(backend, request, delayMs).then(({ status, body }) => {
      response.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body))
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo

  return {
    url: `http://127.0.0.1:${port}/sql`,
    requests: () => requestCount,
    resetRequests: () => {
      requestCount = 0
    },
    setDelay: (ms) => {
      delayMs = ms
    },
    close: async () => {
      await new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()))
      })
      await backend.pool.end()
    },
  }
}

// Runs what `request` asks once it has been read and `delayMs` have passed, whether or not its
// client is still waiting: a database has no way to know.
async function answerRequest(
  backend: Backend,
  request: IncomingMessage,
  delayMs: number,
): Promise<Reply> {
  if (request.method !== 'POST' || request.url !== '/sql') {
    return { status: 404, body: { message: 'not found' } }
  }
  try {
    const payload = await readJson(request)
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs))
    const header = (name: string) => request.headers[name.toLowerCase()]
    const output = {
      rawTextOutput: header('Neon-Raw-Text-Output') === 'true',
      arrayMode: header('Neon-Array-Mode') === 'true',
    }
    const begin = buildBeginStatement(
      header('Neon-Batch-Isolation-Level'),
      header('Neon-Batch-Read-Only') === 'true',
      header('Neon-Batch-Deferrable') === 'true',
    )
    if (typeof payload === 'object' && payload !== null && 'queries' in payload) {
      if (!Array.isArray(payload.queries)) throw new BadRequestError('queries must be an array')
      const statements = payload.queries.map((query) => parseStatement(query, output.arrayMode))
      return { status: 200, body: await runBatch(backend, begin, statements, output) }
    }
    return {
      status: 200,
      body: await runSingle(backend, parseStatement(payload, output.arrayMode), output),
    }
  } catch (error) {
    return describeError(error)
  }
}

async function readJson(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = []
  for await (const chunk of request) chunks.push(chunk as Buffer)
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'))
  } catch {
    throw new BadRequestError('request body is not valid JSON')
  }
}

function parseStatement(value: unknown, defaultArrayMode: boolean): Statement {
  if (typeof value !== 'object' || value === null || !('query' in value)) {
    throw new BadRequestError('expected {query, params} or {queries: [{query, params}, ...]}')
  }
  const params = 'params' in value ? value.params : []
  if (typeof value.query !== 'string' || !Array.isArray(params)) {
    throw new BadRequestError('query must be a string and params an array')
  }
  // Neon lets a statement override the Neon-Array-Mode header; the driver never does.
  const arrayMode =
    'arrayMode' in value && typeof value.arrayMode === 'boolean'
      ? value.arrayMode
      : defaultArrayMode
  return { query: value.query, params, arrayMode }
}

/** Neon checks the batch headers on every request, and starts a plain BEGIN without them. */
function buildBeginStatement(
  isolationLevel: string | string[] | undefined,
  readOnly: boolean,
  deferrable: boolean,
): string {
  let statement = 'BEGIN'
  if (isolationLevel !== undefined) {
    const level = typeof isolationLevel === 'string' ? isolationLevels[isolationLevel] : undefined
    if (level === undefined) throw new BadRequestError('invalid isolation level')
    statement += ` ISOLATION LEVEL ${level}`
  }
  if (readOnly) statement += ' READ ONLY'
  if (deferrable) statement += ' DEFERRABLE'
  return statement
}

async function runSingle(backend: Backend, statement: Statement, output: OutputOptions) {
  const client = await backend.pool.connect()
  try {
    const result = await runStatement(backend, client, statement, output)
    client.release()
    return result
  } catch (error) {
    // An ordinary SQL error leaves the connection usable; anything else (FATAL, a dropped socket)
    // means it is broken and must not go back to the pool.
    const isUsable = error instanceof DatabaseError && error.severity === 'ERROR'
    client.release(isUsable ? undefined : (error as Error))
    throw error
  }
}

async function runBatch(
  backend: Backend,
  begin: string,
  statements: Statement[],
  output: OutputOptions,
) {
  const client = await backend.pool.connect()
  try {
    await client.query(begin)
    const results = []
    for (const statement of statements) {
      results.push(await runStatement(backend, client, statement, output))
    }
    await client.query('COMMIT')
    client.release()
    return { results }
  } catch (error) {
    // A connection that cannot even roll back is broken: drop it rather than pool it.
    const rollbackError = await client.query('ROLLBACK').then(
      () => undefined,
      (failure: Error) => failure,
    )
    client.release(rollbackError)
    throw error
  }
}

async function runStatement(
  backend: Backend,
  client: PoolClient,
  statement: Statement,
  output: OutputOptions,
) {
  const config = {
    text: statement.query,
    values: statement.params,
    rowMode: 'array' as const,
    types: keepText,
    // Neon always uses the extended protocol, which rejects several statements in one query.
    // Without parameters pg would use the simple protocol and accept them.
    queryMode: 'extended',
  }
  const result: QueryArrayResult<(string | null)[]> = await client.query(config)
  const { fields } = result
  const convert = output.rawTextOutput
    ? (text: string, _typeId: number) => text
    : await createJsonConverter(backend, client)
  const rows = result.rows.map((row) => {
    const values = fields.map((field, i) => {
      const text = row[i] ?? null
      return text === null ? null : convert(text, field.dataTypeID)
    })
    return statement.arrayMode
      ? values
      : Object.fromEntries(fields.map((field, i) => [field.name, values[i]]))
  })
  return {
    command: result.command,
    rowCount: result.rowCount,
    rows,
    // pg's field descriptions carry exactly Neon's keys: name, dataTypeID, tableID, columnID,
    // dataTypeSize, dataTypeModifier and format ('text').
    fields,
    rowAsArray: statement.arrayMode,
  }
}

type NestedText = (string | null | NestedText)[]

// pg's own parser for text[] (OID 1009) splits any array literal, nested, quoted or with NULLs,
// into its elements' text. The annotation widens the OID: pg's typings list only scalar built-ins.
const getTypeParser: (oid: number) => (text: string) => unknown = types.getTypeParser
const splitArrayLiteral = getTypeParser(1009) as (literal: string) => NestedText

/**
 * Without raw text output Neon turns some types into JSON values: booleans, int2/int4, finite
 * floats, json/jsonb, and arrays of any type element by element. Everything else stays text.
 */
async function createJsonConverter(backend: Backend, client: PoolClient) {
  backend.arrayElementTypes ??= await loadArrayElementTypes(client)
  const arrayElementTypes = backend.arrayElementTypes
  const convert = (text: string, typeId: number): unknown => {
    const elementType = arrayElementTypes.get(typeId)
    return elementType === undefined
      ? convertScalar(text, typeId)
      : convertElements(splitArrayLiteral(text), elementType)
  }
  const convertElements = (elements: NestedText, elementType: number): unknown[] =>
    elements.map((element) => {
      if (element === null) return null
      return Array.isArray(element)
        ? convertElements(element, elementType)
        : convert(element, elementType)
    })
  return convert
}

async function loadArrayElementTypes(client: PoolClient): Promise<Map<number, number>> {
  const { rows } = await client.query<{ oid: number; typelem: number }>(
    "select oid::int, typelem::int from pg_type where typcategory = 'A'",
  )
  return new Map(rows.map(({ oid, typelem }) => [oid, typelem]))
}

function convertScalar(text: string, typeId: number): unknown {
  const { builtins } = types
  switch (typeId) {
    case builtins.BOOL:
      return text === 't'
    case builtins.INT2:
    case builtins.INT4:
      return Number(text)
    case builtins.FLOAT4:
    case builtins.FLOAT8:
      // NaN and the infinities have no JSON number, so they stay text.
      return Number.isFinite(Number(text)) ? Number(text) : text
    case builtins.JSON:
    case builtins.JSONB:
      return JSON.parse(text)
    default:
      return text
  }
}

/**
 * Neon answers a Postgres error with HTTP 400 and its fields as JSON, which the driver turns into
 * a NeonDbError carrying them (SQLSTATE in `code`). Other failures, such as an unreachable
 * Postgres, get a 500, which the driver reports as `Server error (HTTP status 500): <body>`.
 */
function describeError(error: unknown): Reply {
  if (error instanceof DatabaseError) {
    const fields = Object.fromEntries(errorFields.map((field) => [field, error[field] ?? null]))
    return { status: 400, body: { message: error.message, ...fields } }
  }
  if (error instanceof BadRequestError) return { status: 400, body: { message: error.message } }
  // Node's connection errors can have an empty message (an AggregateError of every address tried).
  const { message, code } = error as { message?: string; code?: string }
  return { status: 500, body: { message: message || code || String(error) } }
}
