/**
 * The identify shell: reads the customer's cluster, lets the linking core decide, writes the
 * decision atomically, retries when another request changed the cluster first, and maps every
 * outcome to HTTP (README, Decisions: "Concurrency protocol").
 */

import type { Identifiers, IdentifyResponse } from './contact.js'
import type { ContactStore } from './contact-store.js'
import { classifyDatabaseError, describeError } from './db-errors.js'
import {
  type ApiError,
  readJsonBody,
  toErrorResponse,
  toJsonResponse,
  toMethodNotAllowed,
} from './http.js'
import { hasWrites, planLinks, toIdentifyResponse } from './linking.js'
import { consoleLogger, type Logger } from './log.js'
import { parseIdentifyRequest } from './request.js'

/** How an identify request changed the customer table. */
export type IdentifyOutcome = 'created' | 'linked' | 'merged' | 'unchanged'

/** The result of identifying a customer: the answer, or why the database could not give it. */
export type IdentifyResult =
  | { ok: true; outcome: IdentifyOutcome; response: IdentifyResponse; attempts: number }
  | { ok: false; error: 'conflict' | 'busy' | 'unavailable'; attempts: number }

/** How often and how patiently a conflicting write is retried. */
export type RetryPolicy = {
  maxAttempts: number
  /** Backoff before retry n (1-based) is uniformly random in [0, min(maxDelayMs, baseDelayMs * 2^n)). */
  baseDelayMs: number
  maxDelayMs: number
}

/** The default: six attempts, backing off up to 200 ms, at most about half a second of waiting. */
export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 6, baseDelayMs: 5, maxDelayMs: 200 }

/** What the shell needs from the outside world; tests pass real databases and fixed clocks. */
export type IdentifyDeps = {
  store: ContactStore | (() => Promise<ContactStore>)
  now?: () => Date
  retry?: RetryPolicy
  random?: () => number
  sleep?: (ms: number) => Promise<void>
  logger?: Logger
}

const sleepFor = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/**
 * Identifies the customer behind `request`, retrying a write whose cluster changed since it was
 * read. Throws only for failures that are neither conflicts nor an unreachable database.
 */
export async function identifyContact(
  store: ContactStore,
  request: Identifiers,
  deps: Omit<IdentifyDeps, 'store' | 'logger'> = {},
): Promise<IdentifyResult> {
  const {
    now = () => new Date(),
    retry = DEFAULT_RETRY,
    random = Math.random,
    sleep = sleepFor,
  } = deps
  for (let attempt = 1; ; attempt++) {
    try {
      const cluster = await store.readCluster(request)
      const plan = planLinks(cluster, request, now())
      const insertedId = hasWrites(plan) ? await store.writePlan(plan, request) : null
      return {
        ok: true,
        outcome: toOutcome(plan),
        response: toIdentifyResponse(plan, insertedId),
        attempts: attempt,
      }
    } catch (error) {
      const failure = classifyDatabaseError(error)
      if (failure === 'unexpected') throw error
      if (failure !== 'conflict' || attempt >= retry.maxAttempts) {
        return { ok: false, error: failure, attempts: attempt }
      }
      await sleep(random() * Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** attempt))
    }
  }
}

function toOutcome(plan: ReturnType<typeof planLinks>): IdentifyOutcome {
  if (plan.primaryId === null) return 'created'
  if (plan.relinkIds.length > 0 || plan.promotesPrimary) return 'merged'
  return plan.insert === null ? 'unchanged' : 'linked'
}

const FAILURES: Record<'conflict' | 'busy' | 'unavailable', ApiError> = {
  conflict: {
    status: 503,
    code: 'conflict',
    message: 'This customer is being updated by other requests; retry shortly',
    headers: { 'retry-after': '1' },
  },
  busy: {
    status: 503,
    code: 'busy',
    message: 'The database is busy; retry shortly',
    headers: { 'retry-after': '1' },
  },
  unavailable: {
    status: 503,
    code: 'database_unavailable',
    message: 'The database cannot be reached; retry shortly',
    headers: { 'retry-after': '5' },
  },
}

const INTERNAL_ERROR: ApiError = {
  status: 500,
  code: 'internal_error',
  message: 'Something went wrong on our side',
}

/** Returns the `POST /identify` handler: Web `Request` in, `Response` out. */
export function createIdentifyHandler(deps: IdentifyDeps): (request: Request) => Promise<Response> {
  const logger = deps.logger ?? consoleLogger
  const openStore =
    typeof deps.store === 'function'
      ? deps.store
      : () => Promise.resolve(deps.store as ContactStore)

  return async (request) => {
    if (request.method !== 'POST') return toErrorResponse(toMethodNotAllowed('POST'))
    const body = await readJsonBody(request)
    if (!body.ok) return toErrorResponse(body.error)
    const parsed = parseIdentifyRequest(body.body)
    if (!parsed.ok) {
      return toErrorResponse({
        status: 400,
        code: 'invalid_request',
        message: parsed.issues
          .map((issue) => `${issue.path || 'body'}: ${issue.message}`)
          .join('; '),
        issues: parsed.issues,
      })
    }

    try {
      const result = await identifyContact(await openStore(), parsed.request, deps)
      if (!result.ok) return toErrorResponse(FAILURES[result.error])
      return toJsonResponse(result.response)
    } catch (error) {
      const failure = classifyDatabaseError(error)
      if (failure !== 'unexpected')
        return toErrorResponse(FAILURES[failure === 'conflict' ? 'conflict' : failure])
      logger.error({ msg: 'identify failed', error: redact(describeError(error), parsed.request) })
      return toErrorResponse(INTERNAL_ERROR)
    }
  }
}

// A driver message can quote a value; the request's own identifiers never reach the logs.
function redact<T extends object>(fields: T, request: Identifiers): T {
  let text = JSON.stringify(fields)
  for (const secret of [request.email, request.phoneNumber]) {
    if (secret !== null) text = text.split(JSON.stringify(secret).slice(1, -1)).join('[redacted]')
  }
  return JSON.parse(text) as T
}
