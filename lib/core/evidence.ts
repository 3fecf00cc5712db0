/**
 * What holds customers together, from evidence alone. Pure.
 *
 * 1. Two live rows are joined when they hold the same email or the same phone number.
 * 2. A recorded request pair (an email and a phone number a request brought together, kept in
 *    the ledger when it merged customers) joins every row holding its email to every row holding
 *    its phone number.
 * 3. A customer is explained when its rows form one set under rules 1 and 2; rows that only a
 *    stored `linkedId` keeps with it (merged by an older service, before the ledger) are not.
 */
import type { Identifiers } from './contact.js'
import { createDisjointSets } from './disjoint-sets.js'

/** A row as the evidence sees it: its identifiers and the customer the table puts it in. */
export type EvidenceRow = Identifiers & { id: number; customerId: number }

/** Returns the rows' ids grouped into the sets rules 1 and 2 join, each in the rows' order. */
export function connectByEvidence(
  rows: readonly EvidenceRow[],
  pairs: readonly Identifiers[],
): number[][] {
  const sets = createDisjointSets<string>()
  const keysOf = ({ email, phoneNumber }: Identifiers) => [
    ...(email === null ? [] : [`e:${email}`]),
    ...(phoneNumber === null ? [] : [`p:${phoneNumber}`]),
  ]
  for (const row of rows) {
    for (const key of keysOf(row)) sets.union(`r:${row.id}`, key)
    sets.find(`r:${row.id}`)
  }
  for (const pair of pairs) {
    const [first, second] = keysOf(pair)
    if (first !== undefined && second !== undefined) sets.union(first, second)
  }
  const byRoot = new Map<string, number[]>()
  for (const row of rows) {
    const root = sets.find(`r:${row.id}`)
    const group = byRoot.get(root)
    if (group === undefined) byRoot.set(root, [row.id])
    else group.push(row.id)
  }
  return [...byRoot.values()]
}

/** A place where the evidence and the table disagree. */
export type EvidenceFinding =
  /** The customer's rows fall into several sets: some are kept only by a stored link. */
  | { kind: 'unexplained-link'; customerId: number; groups: number[][] }
  /** The evidence joins rows the table keeps in different customers. */
  | { kind: 'evidence-joins-customers'; customerIds: number[] }

/** Compares the customers of the table with the sets the evidence makes (rule 3). */
export function findUnexplained(
  rows: readonly EvidenceRow[],
  pairs: readonly Identifiers[],
): EvidenceFinding[] {
  const customerOf = new Map(rows.map((row) => [row.id, row.customerId]))
  const groupsByCustomer = new Map<number, number[][]>()
  const findings: EvidenceFinding[] = []
  for (const group of connectByEvidence(rows, pairs)) {
    const customers = [...new Set(group.map((id) => customerOf.get(id) ?? id))]
    if (customers.length > 1) {
      findings.push({
        kind: 'evidence-joins-customers',
        customerIds: customers.sort((a, b) => a - b),
      })
    }
    for (const customerId of customers) {
      const groups = groupsByCustomer.get(customerId) ?? []
      groups.push(group.filter((id) => customerOf.get(id) === customerId))
      groupsByCustomer.set(customerId, groups)
    }
  }
  for (const [customerId, groups] of groupsByCustomer) {
    if (groups.length > 1) findings.push({ kind: 'unexplained-link', customerId, groups })
  }
  return findings
}
