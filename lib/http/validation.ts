/** Checking a request's input against a valibot schema, with one 400 answer for every endpoint. */
import * as v from 'valibot'
import type { ApiError, FieldIssue } from './answer.js'

/** The 400 answer naming every problem with the input, field by field. */
export function toInvalidRequest(issues: readonly FieldIssue[]): ApiError {
  const message = issues.map((issue) => `${issue.path || 'body'}: ${issue.message}`)
  return { status: 400, code: 'invalid_request', message: message.join('; '), issues: [...issues] }
}

/** Returns valibot's issues as fields and messages. */
export function toFieldIssues(issues: readonly v.BaseIssue<unknown>[]): FieldIssue[] {
  return issues.map((issue) => ({ path: v.getDotPath(issue) ?? '', message: issue.message }))
}

/** Checks `input` against `schema`: its output, or the 400 answer saying what is wrong. */
export function parseInput<TSchema extends v.GenericSchema>(
  schema: TSchema,
  input: unknown,
): { ok: true; value: v.InferOutput<TSchema> } | { ok: false; error: ApiError } {
  const result = v.safeParse(schema, input)
  if (result.success) return { ok: true, value: result.output }
  return { ok: false, error: toInvalidRequest(toFieldIssues(result.issues)) }
}

/** A request's query parameters as an object (the last of a repeated one wins). */
export const readQuery = (request: Request): Record<string, string> =>
  Object.fromEntries(new URL(request.url).searchParams)
