/**
 * Why two contacts are one customer: the shortest chain of evidence between them. Pure.
 *
 * 1. Two rows that hold the same email, or the same phone number, are one step apart.
 * 2. A recorded request pair (an email and a phone number a request brought when it merged
 *    customers) puts every row holding its email one step from every row holding its phone.
 * 3. A row's stored link (`linkedId`) is a step of last resort, used only when rules 1 and 2 find
 *    no chain: it explains rows merged before the ledger existed, which share nothing else, so two
 *    contacts of one customer always have a chain.
 * 4. The chain is a shortest one under the rules in use. Among equally short chains, steps of
 *    rule 1 come before rule 2, then lower contact ids; so the answer is the same every time.
 * 5. Work is linear in the customer's size: each identifier and each pair is expanded once.
 */
import type { ContactRow } from './contact.js'

/** A recorded pair of identifiers and the merge it caused (rule 2). */
export type RequestPair = {
  email: string
  phoneNumber: string
  at: Date
  requestId: string | null
  /** The survivor of the merge, and the primaries it absorbed. */
  primaryId: number
  absorbedIds: number[]
}

/** A row as explain reads it. */
export type ExplainedRow = Pick<ContactRow, 'id' | 'email' | 'phoneNumber' | 'linkedId'>

/** One step of a chain: the two contacts it joins and why, with a sentence for people. */
export type ExplainStep =
  | { kind: 'shared-email'; from: number; to: number; email: string; text: string }
  | { kind: 'shared-phone'; from: number; to: number; phoneNumber: string; text: string }
  | {
      kind: 'request-pair'
      from: number
      to: number
      email: string
      phoneNumber: string
      at: string
      requestId: string | null
      text: string
    }
  | { kind: 'recorded-link'; from: number; to: number; text: string }

// Why one row was reached from another.
type Edge =
  | { kind: 'shared-email'; email: string }
  | { kind: 'shared-phone'; phoneNumber: string }
  | { kind: 'request-pair'; pair: RequestPair }
  | { kind: 'recorded-link' }

/**
 * Returns the steps from contact `from` to contact `to` within `rows` (one customer's), or null
 * when no chain joins them (one of them is not among the rows).
 */
export function explainLink(
  rows: readonly ExplainedRow[],
  pairs: readonly RequestPair[],
  from: number,
  to: number,
): ExplainStep[] | null {
  return (
    searchChain(rows, pairs, from, to, { useLinks: false }) ??
    searchChain(rows, pairs, from, to, { useLinks: true })
  )
}

// A breadth-first search from `from` to `to`, stored links followed only when `useLinks`.
function searchChain(
  rows: readonly ExplainedRow[],
  pairs: readonly RequestPair[],
  from: number,
  to: number,
  { useLinks }: { useLinks: boolean },
): ExplainStep[] | null {
  const byId = new Map(rows.map((row) => [row.id, row]))
  if (!byId.has(from) || !byId.has(to)) return null
  const sorted = [...rows].sort((a, b) => a.id - b.id)
  const byEmail = groupBy(sorted, (row) => row.email)
  const byPhone = groupBy(sorted, (row) => row.phoneNumber)
  const byLink = groupBy(sorted, (row) => (row.linkedId === null ? null : String(row.linkedId)))
  const pairsByEmail = groupBy(pairs, (pair) => pair.email)
  const pairsByPhone = groupBy(pairs, (pair) => pair.phoneNumber)

  const cameFrom = new Map<number, { previous: number; edge: Edge }>([
    [from, { previous: from, edge: { kind: 'recorded-link' } }],
  ])
  const expanded = new Set<string>()
  const usedPairs = new Set<RequestPair>()
  const queue = [from]
  const reach = (previous: number, next: ExplainedRow, edge: Edge) => {
    if (cameFrom.has(next.id)) return
    cameFrom.set(next.id, { previous, edge })
    queue.push(next.id)
  }
  const isFirstVisit = (key: string) => {
    if (expanded.has(key)) return false
    expanded.add(key)
    return true
  }

  for (let head = 0; head < queue.length && !cameFrom.has(to); head++) {
    const id = queue[head] as number
    const row = byId.get(id) as ExplainedRow
    if (row.email !== null && isFirstVisit(`e:${row.email}`)) {
      for (const next of byEmail.get(row.email) ?? [])
        reach(id, next, { kind: 'shared-email', email: row.email })
    }
    if (row.phoneNumber !== null && isFirstVisit(`p:${row.phoneNumber}`)) {
      for (const next of byPhone.get(row.phoneNumber) ?? []) {
        reach(id, next, { kind: 'shared-phone', phoneNumber: row.phoneNumber })
      }
    }
    const pairsHere = [
      ...(row.email === null ? [] : (pairsByEmail.get(row.email) ?? [])),
      ...(row.phoneNumber === null ? [] : (pairsByPhone.get(row.phoneNumber) ?? [])),
    ]
    for (const pair of pairsHere) {
      if (usedPairs.has(pair)) continue
      usedPairs.add(pair)
      const others =
        row.email === pair.email ? byPhone.get(pair.phoneNumber) : byEmail.get(pair.email)
      const edge: Edge = { kind: 'request-pair', pair }
      for (const next of others ?? []) reach(id, next, edge)
    }
    if (!useLinks) continue
    const parent = row.linkedId === null ? undefined : byId.get(row.linkedId)
    const linked = [...(parent === undefined ? [] : [parent]), ...(byLink.get(String(id)) ?? [])]
    for (const next of linked.sort((a, b) => a.id - b.id))
      reach(id, next, { kind: 'recorded-link' })
  }
  if (!cameFrom.has(to)) return null

  const steps: ExplainStep[] = []
  for (let at = to; at !== from; ) {
    const { previous, edge } = cameFrom.get(at) as { previous: number; edge: Edge }
    steps.push(toStep(previous, at, edge, byId))
    at = previous
  }
  return steps.reverse()
}

function toStep(
  from: number,
  to: number,
  edge: Edge,
  byId: Map<number, ExplainedRow>,
): ExplainStep {
  const contacts = `contact ${from} and contact ${to}`
  switch (edge.kind) {
    case 'shared-email':
      return {
        kind: edge.kind,
        from,
        to,
        email: edge.email,
        text: `${contacts} share email ${edge.email}`,
      }
    case 'shared-phone':
      return {
        kind: edge.kind,
        from,
        to,
        phoneNumber: edge.phoneNumber,
        text: `${contacts} share phone number ${edge.phoneNumber}`,
      }
    case 'request-pair': {
      const { pair } = edge
      const { email, phoneNumber, requestId } = pair
      const at = pair.at.toISOString()
      const holdsEmail = byId.get(from)?.email === email
      const merged =
        pair.absorbedIds.length === 0
          ? ''
          : `, merging customer ${pair.absorbedIds.join(', ')} into customer ${pair.primaryId}`
      const request = requestId === null ? 'a request' : `request ${requestId}`
      return {
        kind: edge.kind,
        from,
        to,
        email,
        phoneNumber,
        at,
        requestId,
        text: `${request} at ${at} brought email ${email} and phone number ${phoneNumber} together${merged}: contact ${from} holds the ${holdsEmail ? 'email' : 'phone number'}, contact ${to} the ${holdsEmail ? 'phone number' : 'email'}`,
      }
    }
    case 'recorded-link':
      return {
        kind: edge.kind,
        from,
        to,
        text: `${contacts} are linked by the table alone: they share no identifier, and no recorded request joined them (merged before the ledger existed, or by hand)`,
      }
  }
}

function groupBy<T>(items: readonly T[], keyOf: (item: T) => string | null): Map<string, T[]> {
  const groups = new Map<string, T[]>()
  for (const item of items) {
    const key = keyOf(item)
    if (key === null) continue
    const group = groups.get(key)
    if (group === undefined) groups.set(key, [item])
    else group.push(item)
  }
  return groups
}
