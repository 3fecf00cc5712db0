/**
 * Match keys: what linking compares, kept apart from the identifiers the answer shows
 * (docs/decisions/011-guard.md).
 *
 * 1. A phone number that parses as a valid number (libphonenumber-js) is keyed by its E.164 form:
 *    written internationally with `+`, or nationally when a default region is configured. Any
 *    other number keeps identify's stored form (digits, a leading `+` kept), so `123456` and the
 *    task statement's examples match exactly as before.
 * 2. An email is keyed by its stored form (NFC, lower-cased: lib/core/email-address.ts) with the
 *    domain in its ASCII form (`bücher.de` → `xn--bcher-kva.de`).
 * 3. Provider aliases, only when the store opts in: for `gmail`, the local part loses its dots and
 *    any `+tag`, and `googlemail.com` is `gmail.com`.
 * 4. Keys carry the version of these rules and of the configuration (`toKeyVersion`); rows keyed
 *    under another version are re-keyed by `npm run rekey`.
 */
import { type CountryCode, parsePhoneNumberFromString } from 'libphonenumber-js/max'
import type { Identifiers, MatchKeys } from '../core/contact.js'
import type { EmailProvider } from '../core/email-address.js'

export { EMAIL_PROVIDERS, type EmailProvider } from '../core/email-address.js'

/** How the store wants identifiers matched; the default matches exactly as identify stores. */
export type MatchKeyConfig = {
  /** ISO 3166 code national numbers are read in, or null to key only international numbers. */
  defaultRegion: CountryCode | null
  emailProviderAliases: readonly EmailProvider[]
}

/** Matching with no region and no provider aliases. */
export const DEFAULT_MATCH_KEYS: MatchKeyConfig = { defaultRegion: null, emailProviderAliases: [] }

// Bumped whenever a rule above changes what key an identifier gets.
const RULES_VERSION = 1

/** The version keys computed under `config` carry, e.g. `1` or `1;region=US;aliases=gmail`. */
export function toKeyVersion(config: MatchKeyConfig): string {
  const parts = [String(RULES_VERSION)]
  if (config.defaultRegion !== null) parts.push(`region=${config.defaultRegion}`)
  if (config.emailProviderAliases.length > 0) {
    parts.push(`aliases=${[...config.emailProviderAliases].sort().join(',')}`)
  }
  return parts.join(';')
}

/** Returns the key of a phone number in identify's stored form (rule 1). */
export function toPhoneKey(phoneNumber: string, config: MatchKeyConfig): string {
  const parsed = phoneNumber.startsWith('+')
    ? parsePhoneNumberFromString(phoneNumber)
    : config.defaultRegion === null
      ? undefined
      : parsePhoneNumberFromString(phoneNumber, config.defaultRegion)
  return parsed?.isValid() === true ? parsed.number : phoneNumber
}

/** Returns the key of an email in identify's stored form (rules 2 and 3). */
export function toEmailKey(email: string, config: MatchKeyConfig): string {
  const at = email.lastIndexOf('@')
  if (at < 0) return email
  let local = email.slice(0, at)
  let domain = toAsciiDomain(email.slice(at + 1))
  if (config.emailProviderAliases.includes('gmail')) {
    if (domain === 'googlemail.com') domain = 'gmail.com'
    if (domain === 'gmail.com') local = local.replace(/\+.*$/, '').replaceAll('.', '')
  }
  return `${local}@${domain}`
}

/** Returns the keys of a request's identifiers. */
export function toMatchKeys(identifiers: Identifiers, config: MatchKeyConfig): MatchKeys {
  return {
    emailKey: identifiers.email === null ? null : toEmailKey(identifiers.email, config),
    phoneKey: identifiers.phoneNumber === null ? null : toPhoneKey(identifiers.phoneNumber, config),
  }
}

/** `toMatchKeys` for one configuration, with the phone keys it has computed remembered. */
export type MatchKeyer = {
  toMatchKeys(identifiers: Identifiers): MatchKeys
  /** How many phone keys it holds now: at most twice its capacity. */
  size(): number
}

/**
 * Returns `toMatchKeys` for `config` that remembers the keys of the phone numbers it has seen
 * lately. Parsing a number against the full metadata costs tens of microseconds, the largest part
 * of what identify itself spends on a request, and a store's checkouts come back to the same
 * numbers. Two generations of at most `capacity` each: when the newer one fills, the older one is
 * dropped, so numbers in use stay and memory is bounded (about 100 bytes a number).
 */
export function createMatchKeyer(config: MatchKeyConfig, capacity = 32_768): MatchKeyer {
  let recent = new Map<string, string>()
  let older = new Map<string, string>()
  const phoneKeyOf = (phoneNumber: string): string => {
    let key = recent.get(phoneNumber)
    if (key !== undefined) return key
    key = older.get(phoneNumber) ?? toPhoneKey(phoneNumber, config)
    if (recent.size >= capacity) {
      older = recent
      recent = new Map()
    }
    recent.set(phoneNumber, key)
    return key
  }
  return {
    toMatchKeys: (identifiers) => ({
      emailKey: identifiers.email === null ? null : toEmailKey(identifiers.email, config),
      phoneKey: identifiers.phoneNumber === null ? null : phoneKeyOf(identifiers.phoneNumber),
    }),
    size: () => recent.size + older.size,
  }
}

// WHATWG URL's host parser applies IDNA (UTS #46) as browsers do; the parser in
// lib/core/email-address.ts has already refused anything that is not a domain name.
function toAsciiDomain(domain: string): string {
  if (/^[\x20-\x7e]*$/.test(domain)) return domain
  try {
    return new URL(`http://${domain}/`).hostname
  } catch {
    return domain
  }
}
