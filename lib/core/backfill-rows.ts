/**
 * The backfill's rows, packed: those it read and those it plans to insert, numbered by index, in
 * typed arrays, with each match key interned once and the rows holding it chained. Pure.
 *
 * A row costs 36 bytes here; a distinct key its text, one map entry and 10 bytes. Nothing of an
 * order is kept unless it inserts a row, so memory follows the identifiers a file brings, not its
 * lines (README, "Backfill").
 */
import type { IdentifierKind } from './contact.js'

/** No row, no key: typed arrays hold no null. */
export const NONE = -1

type Packed = Int8Array | Int32Array | Float64Array

// Doubles an array's room when full: a row costs amortised O(1), and no per-row object.
function withRoom<T extends Packed>(array: T, size: number): T {
  if (size <= array.length) return array
  const next = new (array.constructor as new (length: number) => T)(
    Math.max(size, array.length * 2),
  )
  next.set(array)
  return next
}

/** One kind's keys: each text once, numbered, with the first row holding it and a count. */
function createKeyIndex() {
  const numbers = new Map<string, number>()
  const texts: string[] = []
  let first = new Int32Array(1024)
  let count = new Int32Array(1024)
  let next = new Int32Array(1024)
  // A byte per key for the planner's own use (whether a built-in rule blocks it): 0 until set.
  let memo = new Int8Array(1024)
  return {
    find: (text: string) => numbers.get(text) ?? NONE,
    intern(text: string): number {
      let key = numbers.get(text)
      if (key === undefined) {
        key = texts.length
        numbers.set(text, key)
        texts.push(text)
        first = withRoom(first, key + 1)
        count = withRoom(count, key + 1)
        memo = withRoom(memo, key + 1)
        first[key] = NONE
      }
      return key
    },
    text: (key: number) => texts[key] as string,
    memo: (key: number) => memo[key] as number,
    remember(key: number, value: number) {
      memo[key] = value
    },
    size: () => texts.length,
    // Rows are chained newest first: a row's `next` is the previous row holding the same key.
    hold(key: number, row: number) {
      next = withRoom(next, row + 1)
      next[row] = first[key] as number
      first[key] = row
      count[key] = (count[key] as number) + 1
    },
    count: (key: number) => (key === NONE ? 0 : (count[key] as number)),
    forEachRow(key: number, visit: (row: number) => void) {
      if (key === NONE) return
      for (let row = first[key] as number; row !== NONE; row = next[row] as number) visit(row)
    },
  }
}

/** The rows of a backfill, with their keys; rows are added, never removed. */
export type RowTable = ReturnType<typeof createRowTable>

/** Returns an empty table of rows. */
export function createRowTable() {
  const keys = { email: createKeyIndex(), phoneNumber: createKeyIndex() }
  let ids = new Int32Array(1024)
  let created = new Float64Array(1024)
  let links = new Int32Array(1024)
  let lines = new Int32Array(1024)
  let emails = new Int32Array(1024)
  let phones = new Int32Array(1024)
  let count = 0
  return {
    keys,
    size: () => count,
    /**
     * Adds a row; `link` is the id it points at as read (NONE for a primary or a planned row),
     * `line` the line of the order that brings it (0 for a row read from the table).
     */
    add(
      row: { id: number; at: number; link: number; line: number },
      emailKey: string | null,
      phoneKey: string | null,
    ): number {
      const index = count++
      ids = withRoom(ids, count)
      created = withRoom(created, count)
      links = withRoom(links, count)
      lines = withRoom(lines, count)
      emails = withRoom(emails, count)
      phones = withRoom(phones, count)
      ids[index] = row.id
      created[index] = row.at
      links[index] = row.link
      lines[index] = row.line
      emails[index] = emailKey === null ? NONE : keys.email.intern(emailKey)
      phones[index] = phoneKey === null ? NONE : keys.phoneNumber.intern(phoneKey)
      if (emailKey !== null) keys.email.hold(emails[index] as number, index)
      if (phoneKey !== null) keys.phoneNumber.hold(phones[index] as number, index)
      return index
    },
    id: (row: number) => ids[row] as number,
    createdAt: (row: number) => created[row] as number,
    /** The id the row pointed at when read, or NONE. */
    linkRead: (row: number) => links[row] as number,
    line: (row: number) => lines[row] as number,
    /** The row's key number of `kind`, or NONE. */
    keyOf: (row: number, kind: IdentifierKind) =>
      (kind === 'email' ? emails[row] : phones[row]) as number,
    /** The row's key text of `kind`, or null. */
    keyText(row: number, kind: IdentifierKind): string | null {
      const key = (kind === 'email' ? emails[row] : phones[row]) as number
      return key === NONE ? null : keys[kind].text(key)
    },
    /** Oldest first (`createdAt`, then id), as identify orders a customer's rows. */
    compareAge: (a: number, b: number) =>
      (created[a] as number) - (created[b] as number) || (ids[a] as number) - (ids[b] as number),
  }
}
