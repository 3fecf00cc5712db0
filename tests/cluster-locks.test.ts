// Which locks a locked retry still needs before it writes (lib/identify/cluster-locks.ts): every
// lock of the plan must end up held in its mode, so the write's own lock statement never waits.

import { describe, expect, test } from 'vitest'
import type { Identifiers } from '../lib/core/contact.js'
import { keyedAsStored } from '../lib/core/contact.js'
import { findMissingLocks, MAX_LEADER_LOCKS } from '../lib/identify/cluster-locks.js'

const request: Identifiers = { email: 'doc@hill.edu', phoneNumber: '555' }
const ids = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i)
const many = MAX_LEADER_LOCKS + 1

describe('findMissingLocks', () => {
  test.each<[string, Identifiers, number[], Identifiers, number[], string[], number[]]>([
    ['the same locks: nothing', request, [1, 2], request, [1, 2], [], []],
    ['fewer leaders than held: nothing', request, [1, 2], request, [2], [], []],
    ['a leader that joined: that leader', request, [1], request, [1, 3], [], [3]],
    [
      'a new identifier: its key',
      { email: 'doc@hill.edu', phoneNumber: null },
      [1],
      request,
      [1],
      ['phone:555'],
      [],
    ],
    [
      'leaders grown past the bound: all of them, so the try takes the lock over all clusters exclusively',
      request,
      ids(1, MAX_LEADER_LOCKS),
      request,
      ids(1, many),
      [],
      ids(1, many),
    ],
    [
      'past the bound before and after: nothing, the lock over all clusters is held exclusively',
      request,
      ids(1, many),
      request,
      ids(5, many + 3),
      [],
      [],
    ],
    [
      'back within the bound: each leader, none being held one by one',
      request,
      ids(1, many),
      request,
      [3],
      [],
      [3],
    ],
  ])('%s', (_, heldIdentifiers, heldLeaders, identifiers, leaderIds, keys, missingLeaders) => {
    expect(
      findMissingLocks(
        { keys: keyedAsStored(heldIdentifiers), leaderIds: heldLeaders },
        { keys: keyedAsStored(identifiers), leaderIds },
      ),
    ).toEqual({ keys, leaderIds: missingLeaders })
  })
})
