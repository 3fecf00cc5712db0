// The customer as a graph, without drawing it: contacts are nodes; contacts that share an email or
// a phone number, or whose identifiers a request brought together, are joined by edges. Pure.
import type { Contact, Customer } from './types.js'

/** Why two contacts are joined; `link` is the stored link, drawn only where nothing else joins. */
export type EdgeKind = 'email' | 'phone' | 'pair' | 'link'

/** A node: one contact. */
export type GraphNode = { id: number; isPrimary: boolean; isBlocked: boolean; label: string }

/** An edge between two contacts, with the identifier that joins them. */
export type GraphEdge = {
  id: string
  source: number
  target: number
  kind: EdgeKind
  value: string
  isBlocked: boolean
}

/** The graph of some contacts of a customer. */
export type Graph = { nodes: GraphNode[]; edges: GraphEdge[] }

/**
 * Returns the graph of `contacts` (all of a customer's, or one page of them) with `pairs`. The
 * holders of one identifier are joined to its oldest holder, not to one another: a star of n - 1
 * edges instead of n² / 2, so a phone number shared by 1,000 orders stays drawable. A pair joins
 * the oldest holder of its email to the oldest holder of its phone number.
 */
export function toGraph(contacts: readonly Contact[], pairs: Customer['pairs'] = []): Graph {
  const nodes = contacts.map((contact) => ({
    id: contact.id,
    isPrimary: contact.linkPrecedence === 'primary',
    isBlocked: contact.emailBlocked === true || contact.phoneNumberBlocked === true,
    label: `#${contact.id}`,
  }))
  const edges: GraphEdge[] = []
  const holders = { email: new Map<string, Contact>(), phone: new Map<string, Contact>() }
  for (const contact of contacts) {
    const identifiers = [
      ['email', contact.email, contact.emailBlocked === true],
      ['phone', contact.phoneNumber, contact.phoneNumberBlocked === true],
    ] as const
    for (const [kind, value, isBlocked] of identifiers) {
      if (value === null) continue
      const oldest = holders[kind].get(value)
      if (oldest === undefined) holders[kind].set(value, contact)
      else edges.push(toEdge(kind, oldest.id, contact.id, value, isBlocked))
    }
  }
  for (const pair of pairs) {
    const withEmail = holders.email.get(pair.email)
    const withPhone = holders.phone.get(pair.phoneNumber)
    if (withEmail === undefined || withPhone === undefined || withEmail === withPhone) continue
    const value = `${pair.email} + ${pair.phoneNumber}`
    const isBlocked = withEmail.emailBlocked === true || withPhone.phoneNumberBlocked === true
    const edge = toEdge('pair', withEmail.id, withPhone.id, value, isBlocked)
    // The same pair sent again is the same evidence: one edge.
    if (!edges.some((known) => known.id === edge.id)) edges.push(edge)
  }
  edges.push(...toLinkEdges(contacts, edges))
  return { nodes, edges }
}

// The parts that no shared value or recorded pair joins to the primary's (a merge before the
// ledger kept pairs, or pairs the lookup does not return yet) hang from their stored link, so
// the graph never shows a contact of the customer floating alone.
function toLinkEdges(contacts: readonly Contact[], edges: readonly GraphEdge[]): GraphEdge[] {
  const parent = new Map(contacts.map((contact) => [contact.id, contact.id]))
  const find = (id: number): number => {
    const up = parent.get(id) ?? id
    if (up === id) return id
    const root = find(up)
    parent.set(id, root)
    return root
  }
  for (const edge of edges) parent.set(find(edge.source), find(edge.target))
  const primary = contacts.find((contact) => contact.linkPrecedence === 'primary')
  const links: GraphEdge[] = []
  for (const contact of contacts) {
    const { linkedId } = contact
    if (linkedId === null || !parent.has(linkedId) || find(contact.id) === find(linkedId)) continue
    if (primary !== undefined && find(contact.id) === find(primary.id)) continue
    links.push(toEdge('link', linkedId, contact.id, 'stored link', false))
    parent.set(find(contact.id), find(linkedId))
  }
  return links
}

const toEdge = (
  kind: EdgeKind,
  source: number,
  target: number,
  value: string,
  isBlocked: boolean,
): GraphEdge => ({ id: `${kind}:${source}-${target}`, source, target, kind, value, isBlocked })

/** Contacts per page of the table and of the graph of a large customer. */
export const PAGE_SIZE = 200

/** Returns page `page` (from 0) of `contacts`, and how many pages there are. */
export function toPage<T>(items: readonly T[], page: number, size = PAGE_SIZE) {
  const pages = Math.max(1, Math.ceil(items.length / size))
  const current = Math.min(Math.max(page, 0), pages - 1)
  return { items: items.slice(current * size, (current + 1) * size), page: current, pages }
}
