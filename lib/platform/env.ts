import { existsSync } from 'node:fs'
import * as v from 'valibot'
import { EMAIL_PROVIDERS } from '../core/email-address.js'

const DRIVERS = ['neon-http', 'node-postgres', 'pglite'] as const

/** A database driver the service can run on (README, Decisions: "Drivers"). */
export type Driver = (typeof DRIVERS)[number]

// An empty variable counts as unset, as in most .env tooling.
const optionalVar = <T extends v.GenericSchema<string, unknown>>(schema: T) =>
  v.optional(
    v.pipe(
      v.string(),
      v.transform((value) => (value.trim() === '' ? undefined : value)),
      v.optional(schema),
    ),
  )

const IntegerVar = (min: number, max: number) =>
  v.pipe(
    v.string(),
    v.regex(/^\d+$/, 'must be a whole number'),
    v.transform(Number),
    v.minValue(min, `must be at least ${min}`),
    v.maxValue(max, `must be at most ${max}`),
  )

const PostgresUrl = v.pipe(
  v.string(),
  v.url('must be a URL'),
  v.regex(/^postgres(ql)?:\/\//, 'must start with postgres:// or postgresql://'),
)

/**
 * How long a request may take before it is answered 503, in ms: below the function's
 * `maxDuration` in vercel.json (10 s), which leaves 2 s for a cold start and the answer.
 */
export const DEFAULT_REQUEST_DEADLINE_MS = 8_000

/** Every environment variable the service reads; `.env.example` documents each. */
export const EnvSchema = v.object({
  DATABASE_URL: optionalVar(PostgresUrl),
  DATABASE_DRIVER: optionalVar(v.picklist(DRIVERS, `must be one of ${DRIVERS.join(', ')}`)),
  NEON_HTTP_ENDPOINT: optionalVar(v.pipe(v.string(), v.url('must be a URL'))),
  DATABASE_POOL_SIZE: v.optional(IntegerVar(1, 1000), '10'),
  PGLITE_DATA_DIR: v.optional(v.pipe(v.string(), v.minLength(1)), '.data/pglite'),
  PORT: v.optional(IntegerVar(1, 65535), '4000'),
  /** Where `npm start` listens; 0.0.0.0 exposes it beyond this machine (e.g. in a container). */
  HOST: v.optional(v.pipe(v.string(), v.minLength(1)), '127.0.0.1'),
  /** How long `npm start` waits for a request's headers and body before answering 408. */
  SERVER_REQUEST_TIMEOUT_MS: v.optional(IntegerVar(100, 600_000), '10000'),
  /** Connections `npm start` keeps open at most; Node closes any past it at once. */
  SERVER_MAX_CONNECTIONS: v.optional(IntegerVar(1, 100_000), '256'),
  /** Comma-separated API keys for identify; unset leaves it open except in production. */
  IDENTIFY_API_KEYS: v.optional(v.string()),
  /** Comma-separated API keys for the admin API; never the same as identify's. */
  ADMIN_API_KEYS: v.optional(v.string()),
  DATABASE_STATEMENT_TIMEOUT_MS: v.optional(IntegerVar(100, 600_000), '5000'),
  /** See DEFAULT_REQUEST_DEADLINE_MS; keep it below vercel.json's maxDuration. */
  REQUEST_DEADLINE_MS: v.optional(IntegerVar(500, 900_000), String(DEFAULT_REQUEST_DEADLINE_MS)),
  /** The store's webhook: every ledger event is POSTed there, signed with WEBHOOK_SECRET. */
  WEBHOOK_URL: optionalVar(v.pipe(v.string(), v.url('must be a URL'))),
  /** A Standard Webhooks secret: `whsec_` and base64, as the receiver's library makes them. */
  WEBHOOK_SECRET: optionalVar(
    v.pipe(v.string(), v.regex(/^whsec_[A-Za-z0-9+/]+={0,2}$/, 'must be whsec_ and base64')),
  ),
  WEBHOOK_TIMEOUT_MS: v.optional(IntegerVar(100, 60_000), '5000'),
  /** Vercel sends it as `Authorization: Bearer` to the cron function that delivers webhooks. */
  CRON_SECRET: optionalVar(v.pipe(v.string(), v.minLength(16, 'must be at least 16 characters'))),
  /** ISO 3166 region national phone numbers are read in for matching (e.g. US); unset: none. */
  PHONE_DEFAULT_REGION: optionalVar(
    v.pipe(v.string(), v.regex(/^[A-Z]{2}$/, 'must be an ISO 3166 code such as US or GB')),
  ),
  /** Comma-separated providers whose email aliases match as one address: `gmail`. */
  EMAIL_PROVIDER_ALIASES: optionalVar(
    v.pipe(
      v.string(),
      v.transform((value) => value.split(',').map((part) => part.trim().toLowerCase())),
      v.array(v.picklist(EMAIL_PROVIDERS, `must list only ${EMAIL_PROVIDERS.join(', ')}`)),
    ),
  ),
  /** A phone seen with more distinct emails than this is quarantined as shared. */
  MAX_EMAILS_PER_PHONE: v.optional(IntegerVar(2, 100_000), '20'),
  /** An email seen with more distinct phone numbers than this is quarantined as shared. */
  MAX_PHONES_PER_EMAIL: v.optional(IntegerVar(2, 100_000), '20'),
  /** The key erasure hashes erased values with; required in production. */
  ERASURE_KEY: optionalVar(v.pipe(v.string(), v.minLength(16, 'must be at least 16 characters'))),
  /** Set to 1 by Vercel in its builds and functions. */
  VERCEL: v.optional(v.string()),
  /** Vercel's environment: production, preview or development. */
  VERCEL_ENV: v.optional(v.string()),
})

/** The validated environment. */
export type Env = v.InferOutput<typeof EnvSchema>

/** Thrown at start-up when the environment is unusable; the message lists every bad variable. */
export class InvalidEnvError extends Error {
  override name = 'InvalidEnvError'
}

/** Validates `source` (by default `process.env`) once, throwing one error naming every bad key. */
export function readEnv(source: Record<string, string | undefined> = process.env): Env {
  const result = v.safeParse(EnvSchema, source)
  if (!result.success) {
    const problems = result.issues.map((issue) => `${v.getDotPath(issue)}: ${issue.message}`)
    throw new InvalidEnvError(`Invalid environment:\n  ${problems.join('\n  ')}`)
  }
  const env = result.output
  if (
    env.DATABASE_URL === undefined &&
    env.DATABASE_DRIVER !== undefined &&
    env.DATABASE_DRIVER !== 'pglite'
  ) {
    throw new InvalidEnvError(
      `Invalid environment:\n  DATABASE_URL: required when DATABASE_DRIVER is ${env.DATABASE_DRIVER}`,
    )
  }
  if ((env.WEBHOOK_URL === undefined) !== (env.WEBHOOK_SECRET === undefined)) {
    throw new InvalidEnvError(
      'Invalid environment:\n  WEBHOOK_URL, WEBHOOK_SECRET: set both to deliver webhooks, or neither',
    )
  }
  // A deployment must never fall back to an embedded database that vanishes with the instance.
  if (env.DATABASE_URL === undefined && env.VERCEL === '1') {
    throw new InvalidEnvError('Invalid environment:\n  DATABASE_URL: required on Vercel')
  }
  return env
}

/** Loads `.env` into `process.env` when the file exists (local runs; deployments set variables). */
export function loadDotEnv(path = '.env'): void {
  if (existsSync(path)) process.loadEnvFile(path)
}
