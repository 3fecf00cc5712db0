/**
 * The API description: OpenAPI 3.1, built from the same valibot schemas that validate requests
 * and type answers, so the description cannot drift from the code. Each capability declares its
 * operations; lib/compose.ts assembles them.
 */
import { toJsonSchema } from '@valibot/to-json-schema'
import * as v from 'valibot'
import type { Logger } from '../platform/log.js'
import { createEndpoint, type Handler } from './endpoint.js'

/** Who may call an operation: the checkout's keys, the admin keys, or anyone. */
export type Security = 'identify' | 'admin' | 'none'

/** One answer an operation gives, with the schema of its JSON body. */
export type OperationResponse = { description: string; schema: v.GenericSchema }

/** One method on one path, described from its schemas. */
export type Operation = {
  method: 'get' | 'post' | 'delete'
  /** The path as OpenAPI writes it, parameters in braces: `/api/customers/{contactId}`. */
  path: string
  summary: string
  description?: string
  security: Security
  /** An object schema whose keys are the query parameters. */
  query?: { readonly entries: v.ObjectEntries }
  /** The names of the path's parameters, each described (and required) by the same key of `query`. */
  pathParams?: readonly string[]
  body?: v.GenericSchema
  responses: Record<number, OperationResponse>
}

/** What a value of type `T` becomes in a JSON answer: dates are ISO strings. */
export type JsonOf<T> = T extends Date
  ? string
  : T extends readonly (infer U)[]
    ? JsonOf<U>[]
    : T extends object
      ? { [K in keyof T]: JsonOf<T[K]> }
      : T

/**
 * Returns `schema` unchanged, after the compiler has checked that it describes exactly the JSON of
 * `T`: an answer's schema and the type the code builds it with cannot drift apart.
 */
export const describing =
  <T>() =>
  <S extends v.GenericSchema>(
    schema: S &
      ([v.InferOutput<S>] extends [JsonOf<T>]
        ? [JsonOf<T>] extends [v.InferOutput<S>]
          ? unknown
          : never
        : never),
  ): S =>
    schema

/** The error body every endpoint answers with (lib/http/answer.ts). */
export const ErrorBodySchema = v.object({
  error: v.object({
    code: v.pipe(v.string(), v.description('Stable, machine-readable: see the README')),
    message: v.pipe(v.string(), v.description('A sentence for people')),
    issues: v.optional(v.array(v.object({ path: v.string(), message: v.string() }))),
  }),
})

/** Answers every operation shares (unless it says otherwise): refused keys, faults. */
export function withCommonErrors(
  responses: Record<number, OperationResponse>,
  security: Security,
): Record<number, OperationResponse> {
  const error = (description: string) => ({ description, schema: ErrorBodySchema })
  return {
    ...(security === 'none' ? {} : { 401: error('No valid API key (`Authorization: Bearer`)') }),
    500: error('A bug: logged with its cause, nothing half-written'),
    503: error('The database cannot serve now; retry after `Retry-After` seconds'),
    ...responses,
  }
}

// Requests are described as callers write them (before normalisation), answers as sent. Rules
// that span fields (`v.check`) cannot be JSON Schema; each operation's description states them.
const toSchema = (schema: v.GenericSchema, typeMode: 'input' | 'output') =>
  toJsonSchema(schema, { target: 'draft-2020-12', typeMode, errorMode: 'ignore' })

/** Returns the OpenAPI 3.1 document for `operations`. */
export function toOpenApiDocument(
  operations: readonly Operation[],
  info: { title: string; version: string; description: string },
): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {}
  for (const operation of operations) {
    paths[operation.path] ??= {}
    const entry = paths[operation.path] as Record<string, unknown>
    entry[operation.method] = toOperationObject(operation)
  }
  return {
    openapi: '3.1.0',
    info,
    paths,
    components: {
      securitySchemes: {
        identify: { type: 'http', scheme: 'bearer', description: 'A key from IDENTIFY_API_KEYS' },
        admin: { type: 'http', scheme: 'bearer', description: 'A key from ADMIN_API_KEYS' },
      },
    },
  }
}

function toOperationObject(operation: Operation): Record<string, unknown> {
  const pathParams = new Set(operation.pathParams ?? [])
  const parameters = Object.entries(operation.query?.entries ?? {}).map(([name, schema]) => {
    const isInPath = pathParams.has(name)
    return {
      name,
      in: isInPath ? 'path' : 'query',
      required: isInPath,
      schema: stripDialect(toSchema(schema, 'input')),
    }
  })
  const responses = Object.fromEntries(
    Object.entries(withCommonErrors(operation.responses, operation.security)).map(
      ([status, { description, schema }]) => [
        status,
        {
          description,
          content: { 'application/json': { schema: stripDialect(toSchema(schema, 'output')) } },
        },
      ],
    ),
  )
  return {
    summary: operation.summary,
    ...(operation.description === undefined ? {} : { description: operation.description }),
    ...(operation.security === 'none' ? {} : { security: [{ [operation.security]: [] }] }),
    ...(parameters.length === 0 ? {} : { parameters }),
    ...(operation.body === undefined
      ? {}
      : {
          requestBody: {
            required: true,
            content: {
              'application/json': { schema: stripDialect(toSchema(operation.body, 'input')) },
            },
          },
        }),
    responses,
  }
}

// OpenAPI 3.1's dialect is JSON Schema 2020-12 already; a `$schema` inside would be noise.
function stripDialect<T extends { $schema?: string | undefined }>(schema: T): Omit<T, '$schema'> {
  const { $schema: _, ...rest } = schema
  return rest
}

/** `GET /api/openapi.json` in its own description. */
export const OPENAPI_OPERATIONS: Operation[] = [
  {
    method: 'get',
    path: '/api/openapi.json',
    summary: 'This description of the API, as OpenAPI 3.1',
    security: 'none',
    responses: {
      200: { description: 'The OpenAPI document', schema: v.record(v.string(), v.unknown()) },
    },
  },
]

/** Returns the handler that serves `document`, built once, to anyone. */
export function createOpenApiHandler(
  document: () => Record<string, unknown>,
  logger: Logger,
): Handler {
  let body: string | undefined
  return createEndpoint({
    name: 'openapi',
    methods: ['GET', 'HEAD'],
    logger,
    async handle() {
      body ??= JSON.stringify(document())
      return {
        response: new Response(body, {
          headers: { 'content-type': 'application/json; charset=utf-8' },
        }),
        outcome: 'ok',
      }
    },
  })
}
