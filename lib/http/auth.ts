/**
 * Who may call an endpoint: callers presenting one of the configured API keys, or anyone where no
 * keys are configured and the deployment is not production (README, "Security"). Identify and the
 * admin API have separate keys, so the checkout's key can never read other customers.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import type { ApiError } from './answer.js'

/** How identify is guarded in this process. */
export type AuthMode =
  | { kind: 'keys'; digests: Buffer[] }
  /** No keys outside production: local runs and previews are open, and say so at start-up. */
  | { kind: 'open' }
  /** No keys in production: every call is refused until `variable` is configured. */
  | { kind: 'refusing'; variable: string }

const digest = (value: string) => createHash('sha256').update(value).digest()

/**
 * Decides the mode from the keys in `variable` (comma-separated, so keys can be rotated; by
 * default `IDENTIFY_API_KEYS`, whose value is `apiKeys`) and `VERCEL_ENV`.
 */
export function toAuthMode(
  apiKeys: string | undefined,
  vercelEnv: string | undefined,
  variable = 'IDENTIFY_API_KEYS',
): AuthMode {
  const keys = (apiKeys ?? '')
    .split(',')
    .map((key) => key.trim())
    .filter((key) => key !== '')
  if (keys.length > 0) return { kind: 'keys', digests: keys.map(digest) }
  return vercelEnv === 'production' ? { kind: 'refusing', variable } : { kind: 'open' }
}

/** Returns null when `request` may call the endpoint, or the error to answer with. */
export function checkAuthorization(mode: AuthMode, request: Request): ApiError | null {
  if (mode.kind === 'open') return null
  if (mode.kind === 'refusing') {
    return {
      status: 503,
      code: 'not_configured',
      message: `This deployment has no API keys configured (${mode.variable}), so it refuses to serve`,
    }
  }
  const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.get('authorization') ?? '')
  // Comparing fixed-length digests keeps the time independent of where, or whether, keys differ.
  const presented = match?.[1] === undefined ? null : digest(match[1])
  let isKnown = false
  for (const known of mode.digests) {
    if (presented !== null && timingSafeEqual(known, presented)) isKnown = true
  }
  if (isKnown) return null
  return {
    status: 401,
    code: 'unauthorized',
    message: 'Send a valid API key as Authorization: Bearer <key>',
    headers: { 'www-authenticate': 'Bearer' },
  }
}
