// The gate on reads of large customers (lib/identify/large-reads.ts), driven with reads that
// resolve when the test says: which reads run, which wait, which are refused.
import { describe, expect, test } from 'vitest'
import type { Identifiers } from '../lib/core/contact.js'
import { keyedAsStored } from '../lib/core/contact.js'
import { classifyDatabaseError } from '../lib/db/errors.js'
import { createLargeReadGate, type LargeReadLimits } from '../lib/identify/large-reads.js'

type Row = { emailKey: string | null; phoneKey: string | null }

const LIMITS: LargeReadLimits = { largeRows: 2, concurrency: 1, maxWaiting: 2, remembered: 10 }
const rowsOf = (count: number, prefix = 'r'): Row[] =>
  Array.from({ length: count }, (_, n) => ({ emailKey: `${prefix}${n}@x.io`, phoneKey: null }))
const byEmail = (email: string): Identifiers => ({ email, phoneNumber: null })
const settle = () => new Promise((resolve) => setTimeout(resolve, 0))

// A gate, and a way to start reads through it that finish only when `finish` is called.
function createHarness(limits = LIMITS) {
  const gate = createLargeReadGate(limits)
  const started: string[] = []
  const finishers = new Map<string, (rows: Row[]) => void>()
  const start = (name: string, identifiers: Identifiers) =>
    gate(keyedAsStored(identifiers), () => {
      started.push(name)
      return new Promise<Row[]>((resolve) => finishers.set(name, resolve))
    })
  const finish = async (name: string, rows: Row[]) => {
    await settle()
    const resolve = finishers.get(name)
    if (resolve === undefined) throw new Error(`read ${name} has not started`)
    resolve(rows)
    await settle()
  }
  // Reads `rows` once through the gate, to make their cluster known.
  const learn = async (rows: Row[]) => {
    const read = start('learn', byEmail(rows[0]?.emailKey ?? ''))
    await finish('learn', rows)
    await read
  }
  return { gate, started, start, finish, learn }
}

describe('createLargeReadGate', () => {
  test('reads of clusters never found large run at once', async () => {
    const { started, start, finish } = createHarness()
    const reads = [start('a', byEmail('r0@x.io')), start('b', byEmail('r1@x.io'))]
    await settle()
    expect(started).toEqual(['a', 'b'])
    await finish('a', rowsOf(1))
    await finish('b', rowsOf(1))
    await Promise.all(reads)
  })

  test('reads naming any identifier of a large cluster run one at a time, in arrival order', async () => {
    const { started, start, finish, learn } = createHarness()
    await learn(rowsOf(3))
    const reads = [
      start('a', byEmail('r2@x.io')),
      start('b', byEmail('r1@x.io')),
      start('c', byEmail('r0@x.io')),
      start('small', byEmail('other@x.io')),
    ]
    await settle()
    expect([...started].sort()).toEqual(['a', 'learn', 'small'])
    await finish('a', rowsOf(3))
    expect(started.at(-1)).toBe('b')
    await finish('b', rowsOf(3))
    expect(started.at(-1)).toBe('c')
    await finish('c', rowsOf(3))
    await finish('small', rowsOf(1, 'o'))
    await Promise.all(reads)
  })

  test('a read finding more than maxWaiting reads waiting is refused as busy', async () => {
    const { start, finish, learn } = createHarness()
    await learn(rowsOf(3))
    const reads = [1, 2, 3].map((n) => start(`${n}`, byEmail('r0@x.io')))
    const refused = start('refused', byEmail('r0@x.io'))
    await expect(refused).rejects.toSatisfy((error) => classifyDatabaseError(error) === 'busy')
    for (const n of [1, 2, 3]) await finish(`${n}`, rowsOf(3))
    await Promise.all(reads)
  })

  test('a cluster found small again is no longer waited for', async () => {
    const { started, start, finish, learn } = createHarness()
    await learn(rowsOf(3))
    const shrunk = start('shrunk', byEmail('r0@x.io'))
    await finish('shrunk', rowsOf(1))
    await shrunk
    const reads = [start('a', byEmail('r0@x.io')), start('b', byEmail('r0@x.io'))]
    await settle()
    expect(started).toEqual(['learn', 'shrunk', 'a', 'b'])
    await finish('a', rowsOf(1))
    await finish('b', rowsOf(1))
    await Promise.all(reads)
  })

  test('recalls at most `remembered` identifiers, forgetting the oldest first', async () => {
    const { started, start, finish, learn } = createHarness({ ...LIMITS, remembered: 3 })
    await learn(rowsOf(3, 'old'))
    await learn(rowsOf(3, 'new'))
    const reads = [start('old', byEmail('old0@x.io')), start('old again', byEmail('old0@x.io'))]
    await settle()
    expect(started.filter((name) => name !== 'learn')).toEqual(['old', 'old again'])
    await finish('old', rowsOf(1))
    await finish('old again', rowsOf(1))
    await Promise.all(reads)
  })
})
