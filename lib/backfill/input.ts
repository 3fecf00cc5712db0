/**
 * Reading a backfill file: CSV with a header row, or NDJSON, streamed record by record. Each order
 * is validated and normalised by identify's own code (`parseIdentifyRequest`) and keyed by the
 * guard's (`toMatchKeys`); a bad line is counted with its number and reason, never its values.
 */
import { createInterface } from 'node:readline'
import type { Readable } from 'node:stream'
import { parse } from 'csv-parse'
import * as v from 'valibot'
import type { BackfillOrder } from '../core/backfill.js'
import { parseExactJson } from '../core/exact-json.js'
import { type MatchKeyConfig, toMatchKeys } from '../guard/match-keys.js'
import { EmailSchema, PhoneNumberSchema } from '../identify/request.js'

/** The two formats a backfill reads. */
export type InputFormat = 'csv' | 'ndjson'

/** A line skipped, by number and reason. */
export type RejectedLine = { line: number; reason: string }

/** What was read: the valid orders in file order, and the lines skipped. */
export type OrdersRead = {
  orders: BackfillOrder[]
  /** The first `MAX_REPORTED` lines skipped. */
  rejected: RejectedLine[]
  rejectedCount: number
}

/** How many rejected lines the report names; the rest are only counted. */
export const MAX_REPORTED = 20

/** A file the backfill cannot read at all, or a bad line under `--strict`: nothing is written. */
export class BackfillInputError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'BackfillInputError'
  }
}

const REQUIRED = ['createdAt', 'email', 'phoneNumber'] as const
const OPTIONAL = ['orderId'] as const
const ISO_8601 =
  /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2}))?$/

/** Returns `createdAt` in epoch milliseconds, or why it is not an ISO 8601 instant. */
export function parseCreatedAt(value: unknown): number | string {
  if (typeof value !== 'string' || value.trim() === '') return 'createdAt is missing'
  const text = value.trim()
  if (!ISO_8601.test(text)) {
    return /T\d{2}:\d{2}/.test(text) && !/(Z|[+-]\d{2}:?\d{2})$/.test(text)
      ? 'createdAt has a time but no time zone (add Z or an offset)'
      : 'createdAt is not an ISO 8601 date or date-time'
  }
  const at = Date.parse(text)
  // Date.parse rolls 2024-02-30 over to March 1st: the calendar date must be the one written.
  const [year, month, day] = text.slice(0, 10).split('-').map(Number) as [number, number, number]
  const date = new Date(Date.UTC(year, month - 1, day))
  const isRealDay = date.getUTCMonth() === month - 1 && date.getUTCDate() === day
  return Number.isNaN(at) || !isRealDay ? 'createdAt is not a real date' : at
}

// What one field's value normalises and keys to, or why it is refused.
type Field = { value: string | null; key: string | null } | { reason: string }

/**
 * Validates and keys each field with identify's own schemas (those `parseIdentifyRequest` is made
 * of) and the guard's keys, remembering the answer per distinct value: repeat customers cost a
 * lookup, not a parse (libphonenumber takes tens of microseconds per number). The cache is
 * emptied when it grows past `CACHE_LIMIT` values, so memory stays bounded.
 */
export function createOrderParser(config: MatchKeyConfig) {
  const CACHE_LIMIT = 200_000
  const caches = { email: new Map<unknown, Field>(), phoneNumber: new Map<unknown, Field>() }
  const parseField = (kind: 'email' | 'phoneNumber', raw: unknown): Field => {
    const cache = caches[kind]
    let field = cache.get(raw)
    if (field !== undefined) return field
    const result = v.safeParse(kind === 'email' ? EmailSchema : PhoneNumberSchema, raw)
    if (!result.success) {
      field = { reason: `${kind}: ${result.issues.map((issue) => issue.message).join('; ')}` }
    } else if (result.output === null) {
      field = { value: null, key: null }
    } else {
      const keys = toMatchKeys(
        kind === 'email'
          ? { email: result.output, phoneNumber: null }
          : { email: null, phoneNumber: result.output },
        config,
      )
      const key = kind === 'email' ? keys.emailKey : keys.phoneKey
      // One string where key and value agree, as they mostly do: less memory per order.
      field = { value: result.output, key: key === result.output ? result.output : key }
    }
    if (cache.size >= CACHE_LIMIT) cache.clear()
    // Only strings and numbers are remembered: an object (NDJSON) is its own value each time.
    if (typeof raw === 'string' || typeof raw === 'number') cache.set(raw, field)
    return field
  }
  /** Turns one record into an order, or the reason it is refused (never quoting a value). */
  return (
    record: { createdAt: unknown; email: unknown; phoneNumber: unknown },
    line: number,
  ): BackfillOrder | string => {
    const at = parseCreatedAt(record.createdAt)
    if (typeof at === 'string') return at
    const email = parseField('email', record.email)
    const phone = parseField('phoneNumber', record.phoneNumber)
    const reasons = [email, phone].flatMap((field) => ('reason' in field ? [field.reason] : []))
    if (reasons.length > 0) return reasons.join('; ')
    if ('reason' in email || 'reason' in phone) return 'unreachable'
    // The cross-field rule of IdentifyRequestSchema.
    if (email.value === null && phone.value === null) {
      return 'at least one of email and phoneNumber is required'
    }
    return {
      line,
      at,
      email: email.value,
      phoneNumber: phone.value,
      emailKey: email.key,
      phoneKey: phone.key,
    }
  }
}

/** The lines a read skipped: the first `MAX_REPORTED`, and how many. */
export type RejectedLines = Pick<OrdersRead, 'rejected' | 'rejectedCount'>

/** How a file is read. */
export type ReadOptions = {
  format: InputFormat
  strict: boolean
  matchKeys: MatchKeyConfig
  /** Called per line read (progress). */
  onRecord?: (line: number) => void
}

/**
 * Yields the valid orders of `input` in file order, one at a time (nothing is kept), and counts
 * the lines it skips in `skipped`; throws BackfillInputError as `readOrders` does.
 */
export async function* streamOrders(
  input: Readable,
  options: ReadOptions,
  skipped: RejectedLines,
): AsyncGenerator<BackfillOrder> {
  const toOrder = createOrderParser(options.matchKeys)
  const records = options.format === 'csv' ? readCsv(input) : readNdjson(input)
  for await (const [record, line] of records) {
    const order = typeof record === 'string' ? record : toOrder(record, line)
    options.onRecord?.(line)
    if (typeof order !== 'string') {
      yield order
      continue
    }
    if (options.strict) throw new BackfillInputError(`line ${line}: ${order} (--strict)`)
    skipped.rejectedCount++
    if (skipped.rejected.length < MAX_REPORTED) skipped.rejected.push({ line, reason: order })
  }
}

/** Reads every order of `input` into memory: for small files and tests. */
export async function readOrders(input: Readable, options: ReadOptions): Promise<OrdersRead> {
  const read: OrdersRead = { orders: [], rejected: [], rejectedCount: 0 }
  for await (const order of streamOrders(input, options, read)) read.orders.push(order)
  return read
}

type OrderRecord = { createdAt: unknown; email: unknown; phoneNumber: unknown }

// A record and its line, or the reason its line is refused.
type ReadRecord = [OrderRecord | string, number]

async function* readCsv(input: Readable): AsyncGenerator<ReadRecord> {
  const parser = input.pipe(parse({ bom: true, info: true, relax_column_count: true }))
  let columns: string[] | undefined
  try {
    for await (const { record, info } of parser as AsyncIterable<{
      record: string[]
      info: { lines: number }
    }>) {
      if (columns === undefined) {
        columns = checkHeader(record.map((name) => name.trim()))
        continue
      }
      if (record.length === 1 && record[0]?.trim() === '') continue
      if (record.length !== columns.length) {
        yield [`${record.length} fields where the header has ${columns.length}`, info.lines]
        continue
      }
      const fields = Object.fromEntries(columns.map((name, index) => [name, record[index]]))
      yield [fields as OrderRecord, info.lines]
    }
  } catch (error) {
    if (error instanceof BackfillInputError) throw error
    const { lines } = error as { lines?: number }
    // csv-parse's message quotes no field, only the position and the kind of fault.
    throw new BackfillInputError(
      `line ${lines ?? '?'}: unreadable CSV (${(error as { code?: string }).code ?? 'parse error'})`,
    )
  }
  if (columns === undefined) throw new BackfillInputError('the file is empty: no header row')
}
function checkHeader(names: string[]): string[] {
  const known = new Set<string>([...REQUIRED, ...OPTIONAL])
  const unknown = names.filter((name) => !known.has(name))
  const missing = REQUIRED.filter((name) => !names.includes(name))
  if (unknown.length > 0 || missing.length > 0 || new Set(names).size !== names.length) {
    throw new BackfillInputError(
      `line 1: unknown column set (${names.join(',')}); expected createdAt,email,phoneNumber and optionally orderId`,
    )
  }
  return names
}

async function* readNdjson(input: Readable): AsyncGenerator<ReadRecord> {
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })
  let line = 0
  for await (const text of lines) {
    line++
    if (text.trim() === '') continue
    let record: unknown
    try {
      // identify's own parser: a phone number sent as a JSON number must be exact.
      record = parseExactJson(text)
    } catch {
      yield ['not a JSON object', line]
      continue
    }
    if (typeof record !== 'object' || record === null || Array.isArray(record)) {
      yield ['not a JSON object', line]
      continue
    }
    yield [record as OrderRecord, line]
  }
}
