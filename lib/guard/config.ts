/** The guard as the environment configures it: matching, sharing limits, the erasure key. */
import type { CountryCode } from 'libphonenumber-js/max'
import type { SharingLimits } from '../core/blocklist.js'
import { type Env, InvalidEnvError } from '../platform/env.js'
import type { MatchKeyConfig } from './match-keys.js'

/** What the guard takes from the environment. */
export type GuardConfig = {
  matchKeys: MatchKeyConfig
  sharingLimits: SharingLimits
  erasureKey: string
}

/**
 * Outside production, erasure works without ERASURE_KEY: hashes made under this key are only as
 * secret as this source file, so production refuses to start without a key of its own.
 */
export const DEVELOPMENT_ERASURE_KEY = 'development-erasure-key-not-secret'

/** Returns the guard's configuration from `env`; throws in production without ERASURE_KEY. */
export function toGuardConfig(env: Env): GuardConfig {
  if (env.ERASURE_KEY === undefined && env.VERCEL_ENV === 'production') {
    throw new InvalidEnvError('Invalid environment:\n  ERASURE_KEY: required in production')
  }
  return {
    matchKeys: {
      // The schema admits two capital letters; libphonenumber-js ignores a region it lacks.
      defaultRegion: (env.PHONE_DEFAULT_REGION as CountryCode | undefined) ?? null,
      emailProviderAliases: env.EMAIL_PROVIDER_ALIASES ?? [],
    },
    sharingLimits: {
      maxEmailsPerPhone: env.MAX_EMAILS_PER_PHONE,
      maxPhonesPerEmail: env.MAX_PHONES_PER_EMAIL,
    },
    erasureKey: env.ERASURE_KEY ?? DEVELOPMENT_ERASURE_KEY,
  }
}
