// Email addresses (lib/core/email-address.ts): what is accepted and how it is stored, what is
// refused and the reason given. Pure: no database.
import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { parseEmailAddress } from '../lib/core/email-address.js'

const ACCEPTED: [string, string, string][] = [
  ['a plain address', 'doc@hill.edu', 'doc@hill.edu'],
  ['rule 1: upper case lowered', 'Doc@Hill.EDU', 'doc@hill.edu'],
  [
    'rule 3: every atext symbol in the part before @',
    "a!#$%&'*+-/=?^_`{|}~z@x.io",
    "a!#$%&'*+-/=?^_`{|}~z@x.io",
  ],
  ['rule 3: an apostrophe', "o'brien@example.com", "o'brien@example.com"],
  ['rule 3: single dots between atoms', 'j.r.r.tolkien@x.io', 'j.r.r.tolkien@x.io'],
  ['rule 3: a quoted part with a space', '"john doe"@example.com', '"john doe"@example.com'],
  [
    'rule 3: a quoted part with @, comma and brackets',
    '"a@b, (c) [d]"@x.io',
    '"a@b, (c) [d]"@x.io',
  ],
  [
    'rule 3: a quoted part that needs no quotes loses them',
    '"john"@example.com',
    'john@example.com',
  ],
  ['rule 3: a quoted dot-atom loses its quotes', '"j.doe"@x.io', 'j.doe@x.io'],
  ['rule 3: a needless backslash is dropped', '"j\\ohn doe"@x.io', '"john doe"@x.io'],
  ['rule 3: a quoted " and \\ keep their backslash', '"a\\"b\\\\c"@x.io', '"a\\"b\\\\c"@x.io'],
  ['rule 3: two dots in a row, quoted', '"a..b"@x.io', '"a..b"@x.io'],
  ['rule 3: a UTF-8 part before @ (RFC 6531)', 'josé@x.io', 'josé@x.io'],
  ['rule 3: 64 bytes before @', `${'a'.repeat(64)}@x.io`, `${'a'.repeat(64)}@x.io`],
  ['rule 4: an A-label domain', 'u@xn--bcher-kva.de', 'u@xn--bcher-kva.de'],
  ['rule 4: an A-label top-level domain', 'u@example.xn--p1ai', 'u@example.xn--p1ai'],
  ['rule 4: a U-label domain', 'u@bücher.de', 'u@bücher.de'],
  ['rule 4: hyphens and digits inside labels', 'u@a-1.b2-c.io', 'u@a-1.b2-c.io'],
  ['rule 4: a label of 63 bytes', `u@${'a'.repeat(63)}.io`, `u@${'a'.repeat(63)}.io`],
  ['rule 1: the Kelvin sign is a K', '\u212Aelvin@x.com', 'kelvin@x.com'],
  ['rule 1: an internationalised address lowered', 'JOSÉ@EXÄMPLE.DE', 'josé@exämple.de'],
  ['rule 1: a decomposed accent composed', 'jose\u0301@exa\u0308mple.de', 'josé@exämple.de'],
  ['rule 1: an accent composed only once lowered', 'J\u030C@x.io', '\u01F0@x.io'],
]

const REFUSED: [string, string, string][] = [
  ['no @', 'doc at hill', 'must be an email address'],
  ['only a quoted part', '"doc"', 'must be an email address'],
  ['two @', 'a@b@x.io', 'has more than one @ (one inside the part before @ must be quoted)'],
  [
    'rule 2: a control character',
    'a\u0000b@x.io',
    'contains the invisible or control character U+0000',
  ],
  [
    'rule 2: a tab inside quotes',
    '"a\tb"@x.io',
    'contains the invisible or control character U+0009',
  ],
  [
    'rule 2: a zero-width space',
    'a\u200Bb@x.io',
    'contains the invisible or control character U+200B',
  ],
  [
    'rule 2: a no-break space',
    'a\u00A0b@x.io',
    'contains the invisible or control character U+00A0',
  ],
  [
    'rule 2: a lone surrogate',
    'a\uD800@x.io',
    'contains the invisible or control character U+D800',
  ],
  ['rule 3: nothing before @', '@x.io', 'the part before @ is empty'],
  ['rule 3: an empty quoted part', '""@x.io', 'the part before @ is empty'],
  [
    'rule 3: a space unquoted',
    'john doe@x.io',
    'the part before @ contains " ", which is allowed only inside quotes',
  ],
  [
    'rule 3: a comma unquoted',
    'a,b@x.io',
    'the part before @ contains ",", which is allowed only inside quotes',
  ],
  [
    'rule 3: a comment (RFC 5322, not 5321)',
    'a(note)@x.io',
    'the part before @ contains "(", which is allowed only inside quotes',
  ],
  [
    'rule 3: a leading dot',
    '.a@x.io',
    'the part before @ has a dot at its start or end, or two in a row (allowed only inside quotes)',
  ],
  [
    'rule 3: a trailing dot',
    'a.@x.io',
    'the part before @ has a dot at its start or end, or two in a row (allowed only inside quotes)',
  ],
  [
    'rule 3: two dots in a row',
    'a..b@x.io',
    'the part before @ has a dot at its start or end, or two in a row (allowed only inside quotes)',
  ],
  ['rule 3: an unclosed quote', '"abc@x.io', 'the quoted part before @ has no closing quote'],
  [
    'rule 3: text after the closing quote',
    '"a"b@x.io',
    'the part before @ has text after its closing quote',
  ],
  [
    'rule 3: a backslash before a non-ASCII character',
    '"\\é"@x.io',
    'the part before @ has a backslash not followed by a printable ASCII character',
  ],
  [
    'rule 3: 65 bytes before @',
    `${'a'.repeat(65)}@x.io`,
    'the part before @ is longer than 64 bytes',
  ],
  [
    'rule 3: 64 characters but 65 bytes before @',
    `é${'a'.repeat(63)}@x.io`,
    'the part before @ is longer than 64 bytes',
  ],
  ['rule 4: nothing after @', 'a@', 'the part after @ is empty'],
  [
    'rule 4: no dot after @',
    'a@localhost',
    'the part after @ is not a domain name: it has no dot, as in example.com',
  ],
  [
    'rule 4: an address literal',
    'a@[192.0.2.1]',
    'the part after @ is not a domain name: an address in brackets is not accepted',
  ],
  [
    'rule 4: an IPv6 address literal',
    'a@[ipv6:2001:db8::1]',
    'the part after @ is not a domain name: an address in brackets is not accepted',
  ],
  [
    'rule 4: a bare IP address',
    'a@192.0.2.1',
    'the part after @ is not a domain name: it ends in a number, not a top-level domain',
  ],
  [
    'rule 4: an underscore',
    'a@ex_ample.com',
    'the part after @ is not a domain name: it contains "_"',
  ],
  [
    'rule 4: a non-ASCII symbol',
    'a@☃.com',
    'the part after @ is not a domain name: it contains "☃"',
  ],
  [
    'rule 4: a trailing dot',
    'a@x.io.',
    'the part after @ is not a domain name: it has a dot at its start or end, or two in a row',
  ],
  [
    'rule 4: two dots in a row',
    'a@x..io',
    'the part after @ is not a domain name: it has a dot at its start or end, or two in a row',
  ],
  [
    'rule 4: a label starting with a hyphen',
    'a@-x.io',
    'the part after @ is not a domain name: a part of it starts or ends with a hyphen',
  ],
  [
    'rule 4: a label ending with a hyphen',
    'a@x-.io',
    'the part after @ is not a domain name: a part of it starts or ends with a hyphen',
  ],
  [
    'rule 4: a label of 64 bytes',
    `a@${'b'.repeat(64)}.io`,
    'the part after @ is not a domain name: a part of it between dots is longer than 63 bytes',
  ],
  [
    'rule 4: a domain over 255 bytes',
    `a@${'b.'.repeat(128)}io`,
    'the part after @ is not a domain name: it is longer than 255 bytes',
  ],
  [
    'rule 5: an address of 254 characters but 261 bytes',
    `${'a'.repeat(60)}@${'b'.repeat(60)}.${'c'.repeat(60)}.${'d'.repeat(60)}.${'é'.repeat(7)}.io`,
    'is longer than 254 bytes',
  ],
]

describe('accepted addresses are stored in one form', () => {
  test.each(ACCEPTED)('%s', (_, text, email) => {
    expect(parseEmailAddress(text)).toEqual({ ok: true, email })
  })
})

describe('refused addresses say what is wrong', () => {
  test.each(REFUSED)('%s', (_, text, reason) => {
    expect(parseEmailAddress(text)).toEqual({ ok: false, reason })
  })
})

test('a stored address reads back as itself, so a replay finds the same identifier', () => {
  for (const [, , email] of ACCEPTED) expect(parseEmailAddress(email)).toEqual({ ok: true, email })
  fc.assert(
    fc.property(
      fc.string({ unit: 'grapheme-composite', maxLength: 12 }),
      fc.emailAddress(),
      (local, address) => {
        for (const text of [address, `"${local.replace(/["\\]/g, '')}"@x.io`, `${local}@x.io`]) {
          const parsed = parseEmailAddress(text)
          if (parsed.ok) expect(parseEmailAddress(parsed.email)).toEqual(parsed)
        }
      },
    ),
    { seed: 20260301 },
  )
})
