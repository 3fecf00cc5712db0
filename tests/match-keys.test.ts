// The identify handler keys phone numbers through a keyer that remembers them
// (lib/guard/match-keys.ts): remembered or not, a key must be exactly what the rules give.
import { describe, expect, test } from 'vitest'
import { createMatchKeyer, toMatchKeys } from '../lib/guard/match-keys.js'

const US = { defaultRegion: 'US' as const, emailProviderAliases: [] }
// Valid numbers whose key differs from the stored form, national numbers, and numbers no rule
// knows, so a key computed for one could not pass for another's.
const PHONES = [
  '+4407911123456',
  '+447911123456',
  '2025550143',
  '+12025550143',
  '123456',
  '+1202555014',
  '0000000000',
  '+33612345678',
]

describe('createMatchKeyer', () => {
  test('gives the keys toMatchKeys gives, first time and remembered, across evictions', () => {
    const keyer = createMatchKeyer(US, 3)
    for (let round = 0; round < 4; round++) {
      for (const [index, phoneNumber] of PHONES.entries()) {
        const identifiers = { email: index % 2 === 0 ? `A${index}@Example.com` : null, phoneNumber }
        expect(keyer.toMatchKeys(identifiers)).toEqual(toMatchKeys(identifiers, US))
      }
    }
    expect(keyer.toMatchKeys({ email: null, phoneNumber: null })).toEqual({
      emailKey: null,
      phoneKey: null,
    })
  })

  test('keys by its own configuration', () => {
    const none = { defaultRegion: null, emailProviderAliases: [] }
    expect(createMatchKeyer(US).toMatchKeys({ email: null, phoneNumber: '2025550143' })).toEqual({
      emailKey: null,
      phoneKey: '+12025550143',
    })
    expect(createMatchKeyer(none).toMatchKeys({ email: null, phoneNumber: '2025550143' })).toEqual({
      emailKey: null,
      phoneKey: '2025550143',
    })
  })

  test('holds at most twice its capacity', () => {
    const keyer = createMatchKeyer(US, 100)
    for (let n = 0; n < 1_000; n++) {
      keyer.toMatchKeys({ email: null, phoneNumber: `+1202555${String(n).padStart(4, '0')}` })
      expect(keyer.size()).toBeLessThanOrEqual(200)
    }
    expect(keyer.size()).toBeGreaterThan(100)
  })
})
