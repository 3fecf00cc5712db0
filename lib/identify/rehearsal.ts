/**
 * Identify's rehearsal: the build's code-cache run (scripts/write-code-cache.ts) sends identify one
 * request, which a built-in rule refuses before any phone number is parsed, any customer planned
 * or any statement built. So a cold function's first checkout would still compile all of that:
 * 4-5 ms of its CPU here (README, Performance, "Issue 14, fourth round"). The rehearsal runs
 * those steps on made-up checkouts in that build process, and V8's code cache then holds them
 * too (docs/decisions/013-cold-start.md).
 *
 * It reads and writes nothing: the statements a write would send are built and rendered to SQL,
 * never run, and nothing it computes is kept. Only the build calls it.
 */
import type { ContactRow, KeyedIdentifiers } from '../core/contact.js'
import { hasWrites, planLinks, toIdentifyResponse } from '../core/linking.js'
import type { Db } from '../db/database.js'
import { createMatchKeyer, type MatchKeyConfig } from '../guard/match-keys.js'
import { parseIdentifyRequest } from './request.js'
import { buildWrites } from './store.js'

// A checkout as a storefront sends one: both identifiers, typed as people type them.
const CHECKOUT = { email: 'Rehearsal@Example.com', phoneNumber: '+1 (202) 555-0143' }

/**
 * Runs, on made-up checkouts, what identify does between reading a request and sending its
 * statements, and after: the request parsed and keyed under `matchKeys` (its phone number
 * included), and for a returning customer, a known one bringing a new email, two customers
 * joined and a new one, the plan, the answer and every write statement built on `db` and
 * rendered with `keyVersion`, unsent. Returns how many statements it built; throws if the
 * made-up checkout is refused, which would mean it no longer rehearses the request's path.
 */
export function rehearseIdentify(db: Db, matchKeys: MatchKeyConfig, keyVersion: string): number {
  const parsed = parseIdentifyRequest(CHECKOUT)
  if (!parsed.ok) throw new Error('identify refuses the rehearsal checkout')
  const keyer = createMatchKeyer(matchKeys)
  const request = { ...parsed.identifiers, ...keyer.toMatchKeys(parsed.identifiers) }
  const now = new Date()
  const olderThanNow = (ms: number) => new Date(now.getTime() - ms)
  const known = toRow(1, request, olderThanNow(2))
  const otherEmail = keyedAs({ email: 'other@example.com', phoneNumber: null }, keyer)
  const other = toRow(2, otherEmail, olderThanNow(1))
  const clusters: ContactRow[][] = [
    [known],
    [{ ...known, ...keyedAs({ email: 'before@example.com', phoneNumber: null }, keyer) }],
    [known, other],
    [],
  ]
  let built = 0
  for (const cluster of clusters) {
    const plan = planLinks(cluster, request, now)
    JSON.stringify(toIdentifyResponse(plan, plan.insert === null ? null : 3))
    if (!hasWrites(plan)) continue
    const linkable = { emailKey: request.emailKey, phoneKey: request.phoneKey }
    for (const statement of buildWrites(db, {
      plan,
      request,
      linkable,
      requestId: 'rehearsal',
      keyVersion,
    })) {
      // Query builders render when asked; raw statements rendered as they were built.
      if ('toSQL' in statement && typeof statement.toSQL === 'function') statement.toSQL()
      built++
    }
  }
  return built
}

const keyedAs = (
  identifiers: { email: string | null; phoneNumber: string | null },
  keyer: ReturnType<typeof createMatchKeyer>,
): KeyedIdentifiers => ({ ...identifiers, ...keyer.toMatchKeys(identifiers) })

const toRow = (id: number, identifiers: KeyedIdentifiers, createdAt: Date): ContactRow => ({
  ...identifiers,
  id,
  linkedId: null,
  linkPrecedence: 'primary',
  createdAt,
})
