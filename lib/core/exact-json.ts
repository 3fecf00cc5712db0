/**
 * JSON text read without rounding a number silently. `JSON.parse` gives every number the nearest
 * double: `1234567890123456.0000001` becomes 1234567890123456 and `9007199254740993` becomes
 * 9007199254740992, and nothing downstream can tell. Its reviver would see the source text only
 * where V8 has `context.source` (Node 22 on; not Node 20, which we support), so this scans the
 * text itself for number literals a double cannot hold exactly and puts an `InexactJsonNumber`
 * in their place. Pure: no I/O.
 */

const INEXACT_JSON_NUMBER: unique symbol = Symbol('InexactJsonNumber')

/** A JSON number whose value a double cannot hold exactly, kept as the text the client wrote. */
export type InexactJsonNumber = {
  readonly kind: typeof INEXACT_JSON_NUMBER
  readonly source: string
}

/** Whether `value` is a number `parseExactJson` could not read exactly. */
export const isInexactJsonNumber = (value: unknown): value is InexactJsonNumber =>
  typeof value === 'object' &&
  value !== null &&
  (value as { kind?: unknown }).kind === INEXACT_JSON_NUMBER

/**
 * Parses JSON `text` as `JSON.parse` does (and throws its `SyntaxError` on bad text), except that a
 * number whose value differs from what its text says (rounded, overflowed to Infinity, or
 * underflowed to 0) is an `InexactJsonNumber`. `0.1` is exact in this sense: it prints back as
 * written. `-0` stays -0.
 */
export function parseExactJson(text: string): unknown {
  const value: unknown = JSON.parse(text)
  // Only a number can be inexact, and every number literal that survives into the value is a
  // number there: a value without one (the usual body, its phone number a string) needs no scan.
  if (!hasNumber(value)) return value
  let result = value
  for (const { path, source } of findInexactNumbers(text)) {
    const marker: InexactJsonNumber = { kind: INEXACT_JSON_NUMBER, source }
    if (path.length === 0) result = marker
    else replaceNumberAt(value, path, marker)
  }
  return result
}

type Path = (string | number)[]

// Walks with a stack of its own, not recursion: the body may nest as deep as its size allows.
function hasNumber(root: unknown): boolean {
  const pending: unknown[] = [root]
  while (pending.length > 0) {
    const value = pending.pop()
    if (typeof value === 'number') return true
    if (typeof value === 'object' && value !== null) pending.push(...Object.values(value))
  }
  return false
}

// Where a value sits while the scan is inside it: an object's current key, or an array's index.
type Frame = { isObject: boolean; key: string | number; expectsKey: boolean }

const NUMBER_TOKEN = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y

// The text has already parsed, so the scan trusts its grammar and only tracks where it is.
function findInexactNumbers(text: string): { path: Path; source: string }[] {
  const frames: Frame[] = []
  let found: { path: Path; source: string }[] = []
  const startValue = (numberToken: string | null) => {
    const top = frames.at(-1)
    if (top !== undefined && !top.isObject) top.key = (top.key as number) + 1
    if (found.length === 0 && (numberToken === null || isExactNumber(numberToken))) return
    const path = frames.map((frame) => frame.key)
    // A repeated key replaces the earlier value, and all inside it, as JSON.parse does.
    found = found.filter((entry) => !isPrefix(path, entry.path))
    if (numberToken !== null && !isExactNumber(numberToken))
      found.push({ path, source: numberToken })
  }
  for (let at = 0; at < text.length; ) {
    const char = text[at] ?? ''
    if (char === '{' || char === '[') {
      startValue(null)
      frames.push({ isObject: char === '{', key: char === '{' ? '' : -1, expectsKey: char === '{' })
      at++
    } else if (char === '}' || char === ']') {
      frames.pop()
      at++
    } else if (char === ',') {
      const top = frames.at(-1)
      if (top?.isObject) top.expectsKey = true
      at++
    } else if (char === '"') {
      const end = findStringEnd(text, at)
      const top = frames.at(-1)
      if (top?.isObject && top.expectsKey) {
        top.key = JSON.parse(text.slice(at, end)) as string
        top.expectsKey = false
      } else startValue(null)
      at = end
    } else if (char === '-' || (char >= '0' && char <= '9')) {
      NUMBER_TOKEN.lastIndex = at
      const token = NUMBER_TOKEN.exec(text)?.[0] ?? char
      startValue(token)
      at += token.length
    } else if (char === 't' || char === 'f' || char === 'n') {
      startValue(null)
      at += char === 'f' ? 5 : 4
    } else at++ // whitespace and ':'
  }
  return found
}

// Returns the index just past the string literal opening at `start`.
function findStringEnd(text: string, start: number): number {
  let at = start + 1
  while (text[at] !== '"') at += text[at] === '\\' ? 2 : 1
  return at + 1
}

const isPrefix = (prefix: Path, path: Path) =>
  prefix.length <= path.length && prefix.every((key, index) => key === path[index])

// A literal is exact when the double it parses to prints back as the same decimal number, or, for
// a whole number past 2^53 (which String() prints only to 17 significant digits), when the
// double's full integer value is the one written.
function isExactNumber(token: string): boolean {
  const value = Number(token)
  if (!Number.isFinite(value)) return false
  const written = toDecimal(token)
  if (written === toDecimal(Object.is(value, -0) ? '-0' : String(value))) return true
  return Number.isInteger(value) && written === toDecimal(BigInt(value).toString())
}

// Returns a canonical spelling of a decimal literal: sign, significant digits, exponent.
function toDecimal(literal: string): string {
  const [, sign = '', whole = '', fraction = '', exponent = '0'] =
    /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(literal) ?? []
  const digits = `${whole}${fraction}`.replace(/^0+/, '')
  if (digits === '') return `${sign}0`
  const significant = digits.replace(/0+$/, '')
  const scale = Number(exponent) - fraction.length + (digits.length - significant.length)
  return `${sign}${significant}e${scale}`
}

// Replaces the number at `path` in `root`; JSON.parse built `root` from the text scanned, so the
// path is there (the shape checks only keep a bug from writing somewhere else).
function replaceNumberAt(root: unknown, path: Path, marker: InexactJsonNumber): void {
  let holder = root
  for (const [index, key] of path.entries()) {
    const isArray = Array.isArray(holder)
    if (typeof holder !== 'object' || holder === null || isArray !== (typeof key === 'number'))
      return
    const container = holder as Record<string | number, unknown>
    if (!Object.hasOwn(container, key)) return
    if (index === path.length - 1) {
      if (typeof container[key] === 'number') container[key] = marker
      return
    }
    holder = container[key]
  }
}
