// The staff console: sign in, find a customer, see its graph and why it holds together, its
// events, and correct it. Each part lives in a module of its own; this one wires them to the page.
import { callApi } from './api.js'
import { renderContacts, renderSummary } from './customer-view.js'
import { byId, fill, h } from './dom.js'
import { forgetEvents, renderEvents } from './events-view.js'
import { explain, fillPickers, renderExplanation } from './explain-view.js'
import { PAGE_SIZE, toGraph, toPage } from './graph-model.js'
import { drawGraph, type GraphView } from './graph-view.js'
import { resetGuard, startGuard } from './guard-view.js'
import { forgetKey, readKey, storeKey } from './session.js'
import type { Customer } from './types.js'

type SearchKind = 'email' | 'phoneNumber' | 'contactId'

const state: { customer: Customer | null; page: number; graph: GraphView | null; picks: number[] } =
  {
    customer: null,
    page: 0,
    graph: null,
    picks: [],
  }

function showSignedIn(isSignedIn: boolean): void {
  byId('sign-in').hidden = isSignedIn
  byId('workspace').hidden = !isSignedIn
  byId('who').hidden = !isSignedIn
}

async function signIn(event: SubmitEvent): Promise<void> {
  event.preventDefault()
  const input = byId<HTMLInputElement>('admin-key')
  const message = byId('sign-in-message')
  const key = input.value.trim()
  if (key === '') {
    message.textContent = 'Enter an admin key.'
    input.focus()
    return
  }
  message.textContent = 'Checking the key…'
  // Any admin endpoint tells whether the key is accepted; the feed's first event is the cheapest.
  const answer = await callApi('GET', '/api/events?limit=1', { key })
  if (!answer.ok) {
    message.textContent =
      answer.code === 'unauthorized'
        ? 'That admin key was refused. Check it and try again.'
        : `Could not sign in: ${answer.message}`
    input.select()
    input.focus()
    return
  }
  storeKey(key)
  input.value = ''
  message.textContent = ''
  showSignedIn(true)
  byId('search-value').focus()
}

function signOut(): void {
  forgetKey()
  forgetEvents()
  state.graph?.destroy()
  Object.assign(state, { customer: null, page: 0, graph: null, picks: [] })
  byId('customer').hidden = true
  fill(byId('search-message'))
  byId<HTMLFormElement>('search-form').reset()
  resetGuard()
  showSignedIn(false)
  byId('sign-in-message').textContent = 'Signed out: the key is forgotten.'
  byId('admin-key').focus()
}

/** Finds the customer `kind` = `value` names and shows it; a miss or a failure is said in words. */
export async function search(kind: SearchKind, value: string): Promise<void> {
  const message = byId('search-message')
  const text = kind === 'contactId' ? value.trim().replace(/^#/, '') : value.trim()
  if (text === '') {
    message.textContent = 'Enter an email, a phone number or a contact id.'
    return
  }
  message.textContent = 'Searching…'
  const asked = ++searches
  const answer = await callApi<Customer>(
    'GET',
    `/api/customers?${kind}=${encodeURIComponent(text)}`,
  )
  // A later search answered first, or will: only the last one asked is shown.
  if (asked !== searches) return
  if (!answer.ok) {
    message.textContent =
      answer.status === 404 ? `No match: ${answer.message}.` : `Search failed: ${answer.message}`
    message.dataset.outcome = answer.status === 404 ? 'miss' : 'error'
    return
  }
  message.dataset.outcome = 'hit'
  const count = answer.data.contacts.length
  message.textContent = `Found customer #${answer.data.contact.primaryContactId} with ${count} contact${count === 1 ? '' : 's'}.`
  showCustomer(answer.data)
  byId('customer-title').focus()
}

let searches = 0

/** Shows `customer`: summary, graph, pickers and table at once, and its events once read. */
export function showCustomer(customer: Customer, page = 0): void {
  state.customer = customer
  state.picks = []
  byId('customer').hidden = false
  byId('customer-title').textContent = `Customer #${customer.contact.primaryContactId}`
  fill(byId('customer-summary'), renderSummary(customer))
  showPage(page)
  const ids = customer.contacts.map((contact) => contact.id)
  fillPickers(
    [byId<HTMLSelectElement>('explain-from'), byId<HTMLSelectElement>('explain-to')],
    ids,
    ids[0] ?? 0,
    ids.at(-1) ?? 0,
  )
  fill(byId('explain-result'))
  fill(byId('events'), h('p', {}, 'Reading the events feed…'))
  void renderEvents(ids).then((events) => {
    if (state.customer === customer) fill(byId('events'), events)
  })
}

// Reads the customer on screen again, as a correction left it; one erased is said to be gone.
async function refresh(): Promise<void> {
  const shown = state.customer
  if (shown === null) return
  const id = shown.contact.primaryContactId
  const answer = await callApi<Customer>('GET', `/api/customers/${id}`)
  if (state.customer !== shown) return
  if (answer.ok) return showCustomer(answer.data, state.page)
  if (answer.status === 404) {
    state.graph?.destroy()
    Object.assign(state, { customer: null, graph: null, picks: [] })
    byId('customer').hidden = true
    byId('search-message').textContent = `Customer #${id} no longer exists.`
    return
  }
  byId('search-message').textContent = `Could not read customer #${id} again: ${answer.message}`
}

// One page of contacts: the table and the graph show the same ones.
function showPage(page: number): void {
  const customer = state.customer
  if (customer === null) return
  const { items, page: current, pages } = toPage(customer.contacts, page)
  state.page = current
  const total = customer.contacts.length
  const first = current * PAGE_SIZE + 1
  const range = pages === 1 ? `all ${total}` : `${first}–${first + items.length - 1} of ${total}`
  const pager =
    pages === 1
      ? null
      : h(
          'nav',
          { class: 'pager', 'aria-label': 'Pages of contacts' },
          pagerButton('Previous page', current - 1, current === 0),
          h('span', {}, ` Page ${current + 1} of ${pages} `),
          pagerButton('Next page', current + 1, current === pages - 1),
        )
  fill(
    byId('contacts'),
    pager,
    renderContacts(customer, { items, caption: `Contacts: ${range}, oldest first` }),
  )
  byId('graph-note').textContent =
    pages === 1
      ? 'Contacts are nodes; tap one to pick it for Explain. Scroll or pinch to zoom.'
      : `This customer has ${total} contacts: the graph shows the page in the table (${range}), so it stays quick.`
  state.graph?.destroy()
  const container = byId('graph')
  const graph = toGraph(items, customer.pairs)
  state.graph = drawGraph(container, graph, pick)
  container.setAttribute(
    'aria-label',
    `Graph of customer #${customer.contact.primaryContactId}: ${graph.nodes.length} contacts joined by ${graph.edges.length} links. The contacts table below lists the same contacts.`,
  )
}

function pagerButton(label: string, page: number, isDisabled: boolean): HTMLButtonElement {
  const button = h('button', { type: 'button', disabled: isDisabled }, label)
  button.addEventListener('click', () => {
    showPage(page)
    // Keep the keyboard where it was: on the same button, or the other one at the last page.
    const buttons = [...byId('contacts').querySelectorAll<HTMLButtonElement>('nav button')]
    const same = buttons.find((other) => other.textContent === label && !other.disabled)
    ;(same ?? buttons.find((other) => !other.disabled))?.focus()
  })
  return button
}

// A tapped node fills the explain pickers: first "from", then "to", then explains.
function pick(contactId: number): void {
  state.picks = [...state.picks, contactId].slice(-2)
  const [from, to] = state.picks
  if (from !== undefined) byId<HTMLSelectElement>('explain-from').value = String(from)
  if (to !== undefined) {
    byId<HTMLSelectElement>('explain-to').value = String(to)
    void runExplain()
  }
}

async function runExplain(): Promise<void> {
  const from = Number(byId<HTMLSelectElement>('explain-from').value)
  const to = Number(byId<HTMLSelectElement>('explain-to').value)
  const result = byId('explain-result')
  fill(result, h('p', {}, 'Explaining…'))
  const answer = await explain(from, to)
  if (!answer.ok) {
    fill(result, h('p', { class: 'error', role: 'alert' }, `Could not explain: ${answer.message}`))
    return
  }
  state.graph?.highlight(answer.explanation.steps)
  fill(result, renderExplanation(answer.explanation))
}

function start(): void {
  byId<HTMLFormElement>('sign-in-form').addEventListener('submit', (event) => void signIn(event))
  byId('sign-out').addEventListener('click', signOut)
  const kind = byId<HTMLSelectElement>('search-kind')
  const value = byId<HTMLInputElement>('search-value')
  // An @ means an email, whatever the picker says: one less step for the common case.
  value.addEventListener('input', () => {
    if (value.value.includes('@')) kind.value = 'email'
  })
  byId<HTMLFormElement>('search-form').addEventListener('submit', (event) => {
    event.preventDefault()
    void search(kind.value as SearchKind, value.value)
  })
  byId<HTMLFormElement>('explain-form').addEventListener('submit', (event) => {
    event.preventDefault()
    void runExplain()
  })
  startGuard({ reopen: (contactId) => search('contactId', String(contactId)), refresh })
  showSignedIn(readKey() !== null)
}

start()
