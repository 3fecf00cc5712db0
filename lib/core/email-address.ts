/**
 * Email addresses as the service accepts and stores them: a mailbox of RFC 5321 (SMTP), with the
 * UTF-8 of RFC 6531/6532, read by a small parser so that a refusal says what is wrong. Pure.
 *
 * 1. The whole address is put in Unicode NFC, lower-cased, and put in NFC again (lower-casing can
 *    make a letter composable with the accent after it: "J\u030C" gives "ǰ"). Every spelling of
 *    one address is then one identifier, ASCII or not: the Kelvin sign is a K, like any letter.
 * 2. No control, format, private-use, unassigned or non-ASCII space character anywhere.
 * 3. The part before @ is a dot-atom (atoms of letters, digits, non-ASCII characters and
 *    !#$%&'*+-/=?^_`{|}~, joined by single dots) or a quoted string ("john doe"), at most 64
 *    bytes of UTF-8. A quoted string is stored with the least quoting that means the same
 *    mailbox (RFC 5321 4.1.2): "john" becomes john, "a\b" becomes "ab".
 * 4. The part after @ is a domain name: at least two dot-separated labels of 1 to 63 bytes each,
 *    at most 255 bytes in all, of letters, digits and hyphens (A-labels such as xn--bcher-kva
 *    included) or non-ASCII letters, marks and digits (U-labels), no label starting or ending
 *    with a hyphen, and a top-level label that is not all digits. An address literal
 *    ([192.0.2.1]) is refused: no customer's mailbox needs one, and an IPv6 literal has many
 *    spellings, which would split one customer into several.
 * 5. The whole address is at most 254 bytes: the 256 of an SMTP path less its angle brackets.
 */

/**
 * The email providers whose aliases a store may opt into matching as one address
 * (lib/guard/match-keys.ts); here, away from the phone metadata, so the environment's schema can
 * name them without loading it.
 */
export const EMAIL_PROVIDERS = ['gmail'] as const

/** An email provider with aliases. */
export type EmailProvider = (typeof EMAIL_PROVIDERS)[number]

/** The address in its stored form, or a sentence saying what is wrong with it. */
export type EmailAddressResult = { ok: true; email: string } | { ok: false; reason: string }

const LOCAL_PART_MAX_BYTES = 64
const DOMAIN_MAX_BYTES = 255
const LABEL_MAX_BYTES = 63
const ADDRESS_MAX_BYTES = 254

// RFC 5322 atext outside letters and digits.
const ATEXT_SYMBOLS = "!#$%&'*+-/=?^_`{|}~"
// Controls, format characters, surrogates, private use, unassigned; every space but ASCII's.
const FORBIDDEN_ANYWHERE = /\p{C}|[^\P{Z} ]/u
// ASCII letters, digits and hyphen (A-labels are ASCII), or any letter, mark or digit (U-labels).
const DOMAIN_CHARACTER = /^[a-z0-9-]$|^[\p{L}\p{M}\p{N}]$/u

const fail = (reason: string): EmailAddressResult => ({ ok: false, reason })

/** Parses `text` as an email address (rules 1 to 5), returning its stored form or what is wrong. */
export function parseEmailAddress(text: string): EmailAddressResult {
  const address = text.normalize('NFC').toLowerCase().normalize('NFC')
  const forbidden = FORBIDDEN_ANYWHERE.exec(address)?.[0]
  if (forbidden !== undefined)
    return fail(`contains the invisible or control character ${toCodePoint(forbidden)}`)

  const local = address.startsWith('"')
    ? readQuotedLocalPart(address)
    : readDotAtomLocalPart(address)
  if (!local.ok) return local
  const domain = address.slice(local.end + 1)
  const domainProblem = findDomainProblem(domain)
  if (domainProblem !== null) return fail(domainProblem)

  const email = `${local.stored}@${domain}`
  if (countUtf8Bytes(local.stored) > LOCAL_PART_MAX_BYTES) {
    return fail(`the part before @ is longer than ${LOCAL_PART_MAX_BYTES} bytes`)
  }
  if (countUtf8Bytes(email) > ADDRESS_MAX_BYTES) {
    return fail(`is longer than ${ADDRESS_MAX_BYTES} bytes`)
  }
  return { ok: true, email }
}

/** Whether `text` is a dot-atom: atoms of atext (letters, digits, non-ASCII, symbols) and single dots. */
export function isDotAtom(text: string): boolean {
  return text.split('.').every((atom) => atom !== '' && [...atom].every(isAtext))
}

const isAtext = (char: string) =>
  /^[a-z0-9]$/i.test(char) || ATEXT_SYMBOLS.includes(char) || char > '\x7F'

type LocalPart = { ok: true; stored: string; end: number } | { ok: false; reason: string }

// An unquoted part before @ ends at the first @, which atext never contains.
function readDotAtomLocalPart(address: string): LocalPart {
  const end = address.indexOf('@')
  if (end === -1) return { ok: false, reason: 'must be an email address' }
  const local = address.slice(0, end)
  if (address.includes('@', end + 1)) {
    return {
      ok: false,
      reason: 'has more than one @ (one inside the part before @ must be quoted)',
    }
  }
  if (local === '') return { ok: false, reason: 'the part before @ is empty' }
  const special = [...local].find((char) => char !== '.' && !isAtext(char))
  if (special !== undefined) {
    return {
      ok: false,
      reason: `the part before @ contains "${special}", which is allowed only inside quotes`,
    }
  }
  if (!isDotAtom(local)) {
    return {
      ok: false,
      reason:
        'the part before @ has a dot at its start or end, or two in a row (allowed only inside quotes)',
    }
  }
  return { ok: true, stored: local, end }
}

// RFC 5321 Quoted-string with RFC 6531's UTF-8: qtext is any printable character but " and \,
// space included; a backslash quotes the printable ASCII character or space after it.
function readQuotedLocalPart(address: string): LocalPart {
  let content = ''
  let at = 1
  for (; at < address.length && address[at] !== '"'; at++) {
    if (address[at] === '\\') {
      at++
      const quoted = address[at]
      if (quoted === undefined || !/^[\x20-\x7E]$/.test(quoted)) {
        return {
          ok: false,
          reason: 'the part before @ has a backslash not followed by a printable ASCII character',
        }
      }
      content += quoted
    } else content += address[at]
  }
  if (at >= address.length)
    return { ok: false, reason: 'the quoted part before @ has no closing quote' }
  const end = at + 1
  if (end === address.length) return { ok: false, reason: 'must be an email address' }
  if (address[end] !== '@')
    return { ok: false, reason: 'the part before @ has text after its closing quote' }
  if (content === '') return { ok: false, reason: 'the part before @ is empty' }
  // The least quoting that means the same mailbox: none for a dot-atom, else \ before " and \ only.
  const stored = isDotAtom(content) ? content : `"${content.replace(/["\\]/g, '\\$&')}"`
  return { ok: true, stored, end }
}

function findDomainProblem(domain: string): string | null {
  const notADomain = 'the part after @ is not a domain name'
  if (domain === '') return 'the part after @ is empty'
  if (domain.startsWith('[')) return `${notADomain}: an address in brackets is not accepted`
  if (countUtf8Bytes(domain) > DOMAIN_MAX_BYTES)
    return `${notADomain}: it is longer than ${DOMAIN_MAX_BYTES} bytes`
  const labels = domain.split('.')
  for (const label of labels) {
    if (label === '') return `${notADomain}: it has a dot at its start or end, or two in a row`
    const wrong = [...label].find((char) => !DOMAIN_CHARACTER.test(char))
    if (wrong !== undefined) return `${notADomain}: it contains "${wrong}"`
    if (label.startsWith('-') || label.endsWith('-'))
      return `${notADomain}: a part of it starts or ends with a hyphen`
    if (countUtf8Bytes(label) > LABEL_MAX_BYTES)
      return `${notADomain}: a part of it between dots is longer than ${LABEL_MAX_BYTES} bytes`
  }
  if (labels.length < 2) return `${notADomain}: it has no dot, as in example.com`
  if (/^\d+$/.test(labels.at(-1) ?? ''))
    return `${notADomain}: it ends in a number, not a top-level domain`
  return null
}

// U+XXXX, for naming a character that would not show in a message.
const toCodePoint = (char: string) =>
  `U+${(char.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`

/** Returns the length of `text` in UTF-8 bytes, the unit of RFC 5321's limits. */
export function countUtf8Bytes(text: string): number {
  let bytes = 0
  for (const char of text) {
    const codePoint = char.codePointAt(0) ?? 0
    bytes += codePoint < 0x80 ? 1 : codePoint < 0x800 ? 2 : codePoint < 0x10000 ? 3 : 4
  }
  return bytes
}
