/**
 * The guard over HTTP, admin only: `GET/POST/DELETE /api/blocked-identifiers`,
 * `DELETE /api/identifiers` and `DELETE /api/customers/{contactId}`, each with `?dryRun=true`
 * where it changes something. Values never reach the logs.
 */
import { sql } from 'drizzle-orm'
import type { Database } from '../db/database.js'
import { selectRows } from '../db/database.js'
import { type ApiError, toJsonResponse, toRefusalError } from '../http/answer.js'
import type { AuthMode } from '../http/auth.js'
import { readJsonBody } from '../http/body.js'
import {
  createEndpoint,
  type Handled,
  type Handler,
  toFailure,
  toRejection,
} from '../http/endpoint.js'
import { parseInput, readQuery } from '../http/validation.js'
import { ContactIdSchema } from '../lookup/query.js'
import type { Logger } from '../platform/log.js'
import { eraseCustomer, eraseValue } from './erase.js'
import type { MatchKeyConfig } from './match-keys.js'
import { DryRunQuerySchema, toValueRef, ValueBodySchema } from './request.js'
import { blockValue, type GuardDeps, type GuardResult, unblockValue } from './shell.js'

/** What the guard's handlers need. */
export type GuardHandlerDeps = {
  guard: () => Promise<GuardDeps>
  matchKeys: MatchKeyConfig
  auth: AuthMode
  logger: Logger
}

const REFUSED: Record<'already_blocked' | 'built_in' | 'not_blocked' | 'not_found', ApiError> = {
  already_blocked: {
    status: 409,
    code: 'already_blocked',
    message: 'That value is on the blocklist already',
  },
  built_in: {
    status: 409,
    code: 'built_in',
    message:
      'That value is blocked by a built-in rule (a placeholder or a no-reply address), which cannot be changed',
  },
  not_blocked: { status: 404, code: 'not_blocked', message: 'That value is not on the blocklist' },
  not_found: { status: 404, code: 'not_found', message: 'No contact holds that value or id' },
}

// The answer for a result that is not ok: a 404 or 409 for the graph's state, a 503 for the
// database's, which says when to retry.
function toRefused(result: Exclude<GuardResult<object>, { ok: true }>): Handled {
  const { error } = result
  if (error === 'conflict' || error === 'busy' || error === 'unavailable' || error === 'deadline') {
    return toFailure(toRefusalError(error))
  }
  return toRejection(REFUSED[error])
}

type BodyInput =
  | { ok: true; ref: ReturnType<typeof toValueRef>; dryRun: boolean }
  | { ok: false; handled: Handled }

async function readValueRequest(request: Request, matchKeys: MatchKeyConfig): Promise<BodyInput> {
  const query = parseInput(DryRunQuerySchema, readQuery(request))
  if (!query.ok) return { ok: false, handled: toRejection(query.error) }
  const body = await readJsonBody(request)
  if (!body.ok) return { ok: false, handled: toRejection(body.error) }
  const parsed = parseInput(ValueBodySchema, body.body)
  if (!parsed.ok) return { ok: false, handled: toRejection(parsed.error) }
  return { ok: true, ref: toValueRef(parsed.value, matchKeys), dryRun: query.value.dryRun }
}

type BlockedRow = { kind: string; value: string; reason: string; createdAt: Date | string }

/** Returns the `/api/blocked-identifiers` handler: list, block (POST) and unblock (DELETE). */
export function createBlockedIdentifiersHandler(deps: GuardHandlerDeps): Handler {
  return createEndpoint({
    name: 'blocked-identifiers',
    methods: ['GET', 'POST', 'DELETE'],
    auth: deps.auth,
    logger: deps.logger,
    async handle(request, { requestId }) {
      if (request.method === 'GET') {
        const { database } = await deps.guard()
        return {
          response: toJsonResponse({ blocked: await listBlocked(database) }),
          outcome: 'read',
        }
      }
      const input = await readValueRequest(request, deps.matchKeys)
      if (!input.ok) return input.handled
      const { ref, dryRun } = input
      const guard = await deps.guard()
      if (request.method === 'POST') {
        const result = await blockValue(guard, ref, 'store', { dryRun, requestId })
        if (!result.ok) return toRefused(result)
        const blocked = { kind: ref.kind, value: ref.value, reason: 'store', createdAt: new Date() }
        return {
          response: toJsonResponse({ dryRun, blocked, splits: result.splits }, dryRun ? 200 : 201),
          outcome: dryRun ? 'previewed' : 'blocked',
        }
      }
      const result = await unblockValue(guard, ref, { dryRun, requestId })
      if (!result.ok) return toRefused(result)
      return {
        response: toJsonResponse({
          dryRun,
          unblocked: { kind: ref.kind, value: ref.value },
          merges: result.merges,
        }),
        outcome: dryRun ? 'previewed' : 'unblocked',
      }
    },
  })
}

/** Returns the store's blocklist, newest first. */
export async function listBlocked(database: Database) {
  const rows = await database.runRead((db) =>
    selectRows<BlockedRow>(
      db,
      sql`select "kind", "value", "reason", "createdAt" from "BlockedIdentifier"
          order by "createdAt" desc, "kind", "key"`,
    ),
  )
  return rows.map((row) => ({ ...row, createdAt: new Date(row.createdAt) }))
}

/** Returns the `DELETE /api/identifiers` handler: erases one value wherever it is held. */
export function createIdentifiersHandler(deps: GuardHandlerDeps): Handler {
  return createEndpoint({
    name: 'identifiers',
    methods: ['DELETE'],
    auth: deps.auth,
    logger: deps.logger,
    async handle(request, { requestId }) {
      const input = await readValueRequest(request, deps.matchKeys)
      if (!input.ok) return input.handled
      const { ref, dryRun } = input
      const result = await eraseValue(await deps.guard(), ref, { dryRun, requestId })
      if (!result.ok) return toRefused(result)
      const { contactIds, deletedContactIds, splits } = result
      const erased = { kind: ref.kind, value: ref.value, contactIds, deletedContactIds }
      return {
        response: toJsonResponse({ dryRun, erased, splits }),
        outcome: dryRun ? 'previewed' : 'erased',
      }
    },
  })
}

/** Returns the `DELETE /api/customers/{contactId}` handler: erases a whole customer. */
export function createCustomerErasureHandler(deps: GuardHandlerDeps): Handler {
  return createEndpoint({
    name: 'customers',
    methods: ['DELETE'],
    auth: deps.auth,
    logger: deps.logger,
    async handle(request, { requestId }) {
      const query = readQuery(request)
      const { contactId, ...rest } = query
      const id = parseInput(ContactIdSchema, contactId ?? '')
      if (!id.ok) return toRejection({ ...id.error, message: `contactId: ${id.error.message}` })
      const options = parseInput(DryRunQuerySchema, rest)
      if (!options.ok) return toRejection(options.error)
      const { dryRun } = options.value
      const result = await eraseCustomer(await deps.guard(), id.value, { dryRun, requestId })
      if (!result.ok) return toRefused(result)
      const { contactIds, deletedContactIds, emails, phoneNumbers } = result
      return {
        response: toJsonResponse({
          dryRun,
          erased: { contactIds, deletedContactIds, emails, phoneNumbers },
        }),
        outcome: dryRun ? 'previewed' : 'erased',
      }
    },
  })
}
