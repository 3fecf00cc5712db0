// The customer on screen: its summary, one page of contacts as a table and as a graph, the
// explain pickers and result, and its events. main.ts finds customers; this module shows them.
import { callApi } from './api.js'
import { renderContacts, renderSummary } from './customer-view.js'
import { byId, fill, h } from './dom.js'
import { renderEvents } from './events-view.js'
import { explain, fillPickers, renderExplanation } from './explain-view.js'
import { PAGE_SIZE, toGraph, toPage } from './graph-model.js'
import { drawGraph, type GraphView } from './graph-view.js'
import type { Customer } from './types.js'

const state: { customer: Customer | null; page: number; graph: GraphView | null; picks: number[] } =
  {
    customer: null,
    page: 0,
    graph: null,
    picks: [],
  }

/** Forgets the customer on screen and hides it, as on sign-out or after its erasure. */
export function clearCustomer(): void {
  state.graph?.destroy()
  Object.assign(state, { customer: null, page: 0, graph: null, picks: [] })
  byId('customer').hidden = true
}

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

/** Reads the customer on screen again, as a correction left it; one erased is said to be gone. */
export async function refreshCustomer(): Promise<void> {
  const shown = state.customer
  if (shown === null) return
  const id = shown.contact.primaryContactId
  const answer = await callApi<Customer>('GET', `/api/customers/${id}`)
  if (state.customer !== shown) return
  if (answer.ok) return showCustomer(answer.data, state.page)
  if (answer.status === 404) {
    clearCustomer()
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

/** Explains the two picked contacts: the path on the graph, the sentences beside it. */
export async function runExplain(): Promise<void> {
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
  // A large customer's graph shows one page: say which contacts of the path it cannot show.
  const drawn = new Set(toPage(state.customer?.contacts ?? [], state.page).items.map((c) => c.id))
  const steps = answer.explanation.steps
  const offPage = [...new Set(steps.flatMap((step) => [step.from, step.to]))].filter(
    (id) => !drawn.has(id),
  )
  fill(
    result,
    renderExplanation(answer.explanation),
    offPage.length > 0 &&
      h(
        'p',
        { class: 'note', id: 'explain-off-page' },
        `The graph shows one page of contacts; the path also runs through ${offPage.map((id) => `#${id}`).join(', ')}, on other pages.`,
      ),
  )
}
