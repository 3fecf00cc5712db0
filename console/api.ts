// Every call to the admin API goes through here: the key as a bearer token, and every failure
// turned into a sentence a person can act on (the API's own message, with what it means here).
import { readKey } from './session.js'

/** An answer: the parsed body, or what went wrong in words, with the API's status and code. */
export type ApiResult<T> =
  | { ok: true; status: number; data: T }
  | { ok: false; status: number; code: string; message: string }

type ErrorBody = {
  error?: { code?: string; message?: string; issues?: { path: string; message: string }[] }
}

/** Sends `method path` with the stored key (or `key`) and a JSON `body`, and reads the answer. */
export async function callApi<T>(
  method: 'GET' | 'POST' | 'DELETE',
  path: string,
  options: { body?: unknown; key?: string } = {},
): Promise<ApiResult<T>> {
  const key = options.key ?? readKey()
  const headers: Record<string, string> = { accept: 'application/json' }
  if (key !== null) headers.authorization = `Bearer ${key}`
  if (options.body !== undefined) headers['content-type'] = 'application/json'
  let response: Response
  try {
    response = await fetch(path, {
      method,
      headers,
      cache: 'no-store',
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    })
  } catch {
    return fail(
      0,
      'network',
      'The service could not be reached. Check your connection and try again.',
    )
  }
  const text = await response.text()
  let body: unknown = null
  try {
    body = text === '' ? null : JSON.parse(text)
  } catch {
    // Not JSON: a proxy's error page, say. Said below in words.
  }
  if (response.ok && body !== null) return { ok: true, status: response.status, data: body as T }
  if (response.ok) {
    return fail(
      response.status,
      'bad_answer',
      'The service answered with something that is not JSON.',
    )
  }
  return describeFailure(response.status, body as ErrorBody | null)
}

const fail = (status: number, code: string, message: string) =>
  ({ ok: false, status, code, message }) as const

// The API's message, and for some codes what the person can do about it.
function describeFailure(status: number, body: ErrorBody | null) {
  const code = body?.error?.code ?? `http_${status}`
  const issues = (body?.error?.issues ?? []).map((issue) =>
    issue.path === '' ? issue.message : `${issue.path}: ${issue.message}`,
  )
  const said = [body?.error?.message, ...issues].filter(Boolean).join('; ')
  const hint = HINTS[code] ?? (status >= 500 ? 'Try again in a moment.' : '')
  const message = [said || `The service answered ${status} without saying why.`, hint]
    .filter(Boolean)
    .join(' ')
  return fail(status, code, message)
}

const HINTS: Record<string, string> = {
  unauthorized: 'The admin key was refused: sign out and sign in with a valid key.',
  not_configured: 'This deployment has no admin keys configured, so it refuses every call.',
  busy: 'The service is busy; try again in a moment.',
  conflict: 'The customer is being changed right now; try again in a moment.',
  database_unavailable: 'The database cannot be reached; try again in a moment.',
}
