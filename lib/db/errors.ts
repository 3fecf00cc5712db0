import { DeadlineExceededError } from './deadline.js'

/** How the identify shell treats a failed database call. */
export type DatabaseFailure =
  /** The cluster changed under the write (or a deadlock was broken): read again and retry. */
  | 'conflict'
  /** A lock or statement waited past its timeout: the customer is too busy right now. */
  | 'busy'
  /** The database could not be reached or went away mid-call. */
  | 'unavailable'
  /** The request's deadline passed before the database answered (./deadline.ts). */
  | 'deadline'
  /** Anything else: a bug or a broken invariant. */
  | 'unexpected'

// Drivers wrap one another: Drizzle's DrizzleQueryError holds the driver's error as `cause`, the
// Neon driver keeps a network failure as `sourceError`.
function* walkCauses(error: unknown): Generator<unknown> {
  const seen = new Set<unknown>()
  let current = error
  while (current !== undefined && current !== null && !seen.has(current)) {
    seen.add(current)
    yield current
    const wrapper = current as { cause?: unknown; sourceError?: unknown }
    current = wrapper.cause ?? wrapper.sourceError
  }
}

// Returns the first SQLSTATE or Node.js error code found along `error`'s causes.
function findErrorCode(error: unknown): string | undefined {
  for (const cause of walkCauses(error)) {
    const code = (cause as { code?: unknown }).code
    if (typeof code === 'string') return code
  }
  return undefined
}

const CONNECTION_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  '57P01', // admin_shutdown: the backend was terminated
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '53300', // too_many_connections
])

const PROTOCOL_VIOLATION = '08P01'

/**
 * The SQLSTATE of contact_assert_linkable (drizzle/0007_guard.sql): every identifier of a new
 * customer was blocked by the time its write locked them.
 */
export const UNLINKABLE_SQLSTATE = 'GU422'

/** Whether `error` is the database refusing to create a customer out of blocked values only. */
export const isUnlinkableError = (error: unknown): boolean =>
  findErrorCode(error) === UNLINKABLE_SQLSTATE

/** Classifies a database error for retrying and for the HTTP status it becomes. */
export function classifyDatabaseError(error: unknown): DatabaseFailure {
  // First: an aborted round trip reaches here wrapped as a connection error.
  for (const cause of walkCauses(error)) {
    if (cause instanceof DeadlineExceededError) return 'deadline'
  }
  const code = findErrorCode(error)
  if (code === '40001' || code === '40P01') return 'conflict'
  if (code === '55P03' || code === '57014') return 'busy'
  // Class 08 is about the connection, except 08P01: the server got a message it could not parse
  // (such as a bind of over 65,535 parameters). Sent again, it fails again, so it is a bug to log.
  if (
    code !== undefined &&
    code !== PROTOCOL_VIOLATION &&
    (CONNECTION_ERROR_CODES.has(code) || code.startsWith('08'))
  ) {
    return 'unavailable'
  }
  for (const cause of walkCauses(error)) {
    const message = cause instanceof Error ? cause.message : ''
    // node-postgres reports a connection that dropped or never came up without a code, and a
    // query sent on a connection that dropped fails with "... encountered a connection error and
    // is not queryable" (not "Client was closed ...", which is a bug: a client used after release).
    if (
      /Connection terminated|timeout exceeded when trying to connect|Error connecting to database|encountered a connection error and is not queryable|Server error \(HTTP status 5/i.test(
        message,
      )
    ) {
      return 'unavailable'
    }
  }
  return 'unexpected'
}

/**
 * Describes an error for the logs without personal data: Drizzle's own message quotes the query's
 * parameters (emails, phone numbers), so only the innermost driver error's message and code are kept.
 */
export function describeError(error: unknown): { name: string; code?: string; message: string } {
  const chain = [...walkCauses(error)]
  const innermost = chain.at(-1)
  const code = findErrorCode(error)
  return {
    name: chain.map((cause) => (cause instanceof Error ? cause.name : typeof cause)).join(' <- '),
    ...(code === undefined ? {} : { code }),
    message: innermost instanceof Error ? innermost.message : String(innermost),
  }
}

/** What a log line may say about a failed call: how it was classified and its code, no message. */
export type FailureCause = { kind: DatabaseFailure; code?: string }

// A SQLSTATE or a Node.js error code; anything else a driver put in `code` is left out.
const CODE_SHAPE = /^[A-Za-z0-9_]{1,32}$/

/** Describes `error` for a request's log line: its kind and SQLSTATE (or Node's code), if any. */
export function describeFailure(error: unknown): FailureCause {
  const code = findErrorCode(error)
  const kind = classifyDatabaseError(error)
  return code !== undefined && CODE_SHAPE.test(code) ? { kind, code } : { kind }
}
