// The ledger's rules (lib/core/ledger.ts), one row per rule. Pure: no database.
import { describe, expect, test } from 'vitest'
import type { ContactRow, Identifiers } from '../lib/core/contact.js'
import { keyedAsStored } from '../lib/core/contact.js'
import { INSERTED, type PlannedEvent, toLedgerEvents } from '../lib/core/ledger.js'
import { planLinks } from '../lib/core/linking.js'
import { at, makeContact } from './support/fixtures.js'

const summarise = (events: PlannedEvent[]) =>
  events.map(({ kind, primaryId, absorbedIds, joinedBy, evidence }) => ({
    kind,
    primaryId,
    absorbedIds,
    joinedBy,
    hasEvidence: evidence !== null,
  }))

describe('the events a change records', () => {
  test.each<[string, ContactRow[], Identifiers, ReturnType<typeof summarise>]>([
    [
      'rule 1: a new customer is created',
      [],
      { email: 'a@x.io', phoneNumber: '1' },
      [
        {
          kind: 'customer_created',
          primaryId: INSERTED,
          absorbedIds: [],
          joinedBy: null,
          hasEvidence: false,
        },
      ],
    ],
    [
      'rule 2: two customers joined by a pair of known identifiers are merged, with evidence',
      [makeContact({ id: 1, email: 'a@x.io' }), makeContact({ id: 2, phoneNumber: '2' })],
      { email: 'a@x.io', phoneNumber: '2' },
      [
        {
          kind: 'customers_merged',
          primaryId: 1,
          absorbedIds: [2],
          joinedBy: 'both',
          hasEvidence: true,
        },
      ],
    ],
    [
      'rule 3: an orphaned secondary is promoted without joining anyone',
      [makeContact({ id: 2, phoneNumber: '2', linkedId: 1 })],
      { email: null, phoneNumber: '2' },
      [
        {
          kind: 'customer_relinked',
          primaryId: 2,
          absorbedIds: [],
          joinedBy: null,
          hasEvidence: false,
        },
      ],
    ],
    [
      'rule 4: a new email for a known phone is linked to its customer',
      [makeContact({ id: 1, phoneNumber: '1' })],
      { email: 'b@x.io', phoneNumber: '1' },
      [
        {
          kind: 'contact_linked',
          primaryId: 1,
          absorbedIds: [],
          joinedBy: 'phoneNumber',
          hasEvidence: false,
        },
      ],
    ],
    [
      'a request that changes nothing records nothing',
      [makeContact({ id: 1, email: 'a@x.io', phoneNumber: '1' })],
      { email: 'a@x.io', phoneNumber: null },
      [],
    ],
  ])('%s', (_, cluster, request, expected) => {
    expect(
      summarise(
        toLedgerEvents(planLinks(cluster, keyedAsStored(request), at(100)), keyedAsStored(request)),
      ),
    ).toEqual(expected)
  })
})
