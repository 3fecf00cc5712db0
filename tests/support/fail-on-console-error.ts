// An unexpected console.error fails the test that caused it (STYLE.md, rule 17); tests that expect
// an error log pass their own logger instead.
import { afterEach, beforeEach, expect, vi } from 'vitest'

beforeEach(() => {
  vi.spyOn(console, 'error')
})

afterEach(() => {
  expect(console.error, 'unexpected console.error').not.toHaveBeenCalled()
  vi.restoreAllMocks()
})
