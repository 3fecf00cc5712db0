// The failure the guard exists for, measured before it: 5,000 checkouts, each with its own email
// and one shared phone, became one customer of 5,000 rows whose every answer listed all 5,000
// strangers' emails. Now a placeholder joins no one, and a shared phone no rule knows joins at
// most MAX_EMAILS_PER_PHONE emails before it is quarantined and what it joined is split.
import { expect, test } from 'vitest'
import { findViolations, readAllContacts } from '../harness/invariants.js'
import { useTestDatabase } from './support/database.js'

const SENDERS = 5_000
const CONCURRENCY = 8
const LIMIT = 20

const suite = useTestDatabase('node-postgres')

async function sendAll(phoneNumber: string) {
  const emailsPerAnswer: number[] = []
  let next = 0
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      for (let n = next++; n < SENDERS; n = next++) {
        const email = `shopper${n}@x.io`
        const { status, body } = await suite.client.identify({ email, phoneNumber })
        expect(status).toBe(200)
        const { emails } = (body as { contact: { emails: string[] } }).contact
        expect(emails).toContain(email)
        emailsPerAnswer[n] = emails.length
      }
    }),
  )
  const [customers] = await suite.database.query<{ n: number }>(
    'select count(*)::int as n from "Contact" where "linkedId" is null',
  )
  return { emailsPerAnswer, customers: customers?.n }
}

test(`${SENDERS} checkouts with the placeholder phone end as ${SENDERS} customers, each answer its own`, async () => {
  const { emailsPerAnswer, customers } = await sendAll('0000000000')
  expect(customers).toBe(SENDERS)
  expect(Math.max(...emailsPerAnswer)).toBe(1)
})

test(`${SENDERS} checkouts with a shared phone no rule knows join at most ${LIMIT} before it is quarantined`, async () => {
  const { emailsPerAnswer, customers } = await sendAll('+15550100')
  expect(Math.max(...emailsPerAnswer)).toBeLessThanOrEqual(LIMIT)
  expect(customers).toBe(SENDERS)
  expect(await suite.database.query('select "kind", "reason" from "BlockedIdentifier"')).toEqual([
    { kind: 'phoneNumber', reason: 'auto' },
  ])
  const blocked = new Set(['phone:+15550100'])
  expect(findViolations(await readAllContacts(suite.database), blocked)).toEqual([])
}, 120_000)
