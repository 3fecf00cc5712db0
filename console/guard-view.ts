// Corrections: block a value (dry run first, then confirm), unblock, the list of blocked and
// quarantined values, and erasure of a customer or of one identifier behind a typed confirmation.
import { callApi } from './api.js'
import { byId, fill, formatTime, h } from './dom.js'
import type {
  BlockAnswer,
  Blocked,
  Customer,
  CustomerErasure,
  IdentifierErasure,
  IdentifierKind,
  Split,
  UnblockAnswer,
} from './types.js'

type Deps = {
  /** Shows the customer of `contactId` in the main view. */
  reopen: (contactId: number) => Promise<void>
  /** Reads the customer on screen again, after a change that may have cut it. */
  refresh: () => Promise<void>
}

const KIND_WORDS: Record<IdentifierKind, string> = { email: 'email', phoneNumber: 'phone number' }
const REASON_WORDS: Record<Blocked['reason'], string> = {
  store: 'blocked by the store',
  auto: 'quarantined automatically',
}

let deps: Deps = { reopen: async () => {}, refresh: async () => {} }

/** Builds the corrections section over the main view's `reopen` and `refresh`. */
export function startGuard(given: Deps): void {
  deps = given
  resetGuard()
}

/** Empties the section, as on sign-out. */
export function resetGuard(): void {
  fill(
    byId('guard-body'),
    blockSection(),
    blockedListSection(),
    eraseCustomerSection(),
    eraseIdentifierSection(),
  )
}

// An identifier's kind and value, with labels; `prefix` keeps ids unique.
function identifierFields(prefix: string) {
  const kind = h(
    'select',
    { id: `${prefix}-kind` },
    h('option', { value: 'email' }, 'Email'),
    h('option', { value: 'phoneNumber' }, 'Phone number'),
  )
  const value = h('input', {
    id: `${prefix}-value`,
    type: 'text',
    spellcheck: 'false',
    autocomplete: 'off',
  })
  value.addEventListener('input', () => {
    if (value.value.includes('@')) kind.value = 'email'
  })
  const fields = [
    h('label', { for: kind.id }, 'Kind'),
    kind,
    h('label', { for: value.id }, 'Value'),
    value,
  ]
  const read = () => {
    const kindValue = kind.value as IdentifierKind
    return { kind: kindValue, value: value.value.trim(), body: { [kindValue]: value.value.trim() } }
  }
  return { fields, read, value }
}

const say = (element: HTMLElement, text: string, isError = false) =>
  fill(element, h('p', isError ? { class: 'error', role: 'alert' } : {}, text))

function describeSplits(splits: readonly Split[]): HTMLElement {
  if (splits.length === 0)
    return h('p', { class: 'splits', 'data-split-count': 0 }, 'No customer would split.')
  return h(
    'ul',
    { class: 'splits', 'data-split-count': splits.length },
    ...splits.map((split) =>
      h(
        'li',
        {},
        `Customer #${split.primaryContactId} splits into ${split.into.length} customers: `,
        split.into.map((id) => `#${id}`).join(', '),
      ),
    ),
  )
}

// After a change: each customer named, as it now is, with a button to open it.
async function renderCustomersNow(primaryIds: readonly number[]): Promise<HTMLElement> {
  const items = await Promise.all(
    primaryIds.map(async (id) => {
      const answer = await callApi<Customer>('GET', `/api/customers/${id}`)
      if (!answer.ok) return h('li', {}, `#${id}: ${answer.message}`)
      const open = h(
        'button',
        { type: 'button' },
        `Open customer #${answer.data.contact.primaryContactId}`,
      )
      open.addEventListener('click', () => void deps.reopen(id))
      const ids = answer.data.contacts.map((contact) => `#${contact.id}`).join(', ')
      return h(
        'li',
        { 'data-customer-id': answer.data.contact.primaryContactId },
        `Customer #${answer.data.contact.primaryContactId}: contacts ${ids} `,
        open,
      )
    }),
  )
  return h(
    'div',
    {},
    h('h4', {}, 'The customers as they now are'),
    h('ul', { id: 'customers-now' }, ...items),
  )
}

function blockSection(): HTMLElement {
  const { fields, read } = identifierFields('block')
  const result = h('div', { id: 'block-result', 'aria-live': 'polite' })
  const form = h(
    'form',
    { method: 'post', class: 'inline', novalidate: true },
    ...fields,
    h('button', { type: 'submit' }, 'Preview block'),
  )
  form.addEventListener('submit', async (event) => {
    event.preventDefault()
    const { kind, value, body } = read()
    if (value === '') return say(result, 'Enter the value to block.', true)
    say(result, 'Asking what blocking would do…')
    const preview = await callApi<BlockAnswer>('POST', '/api/blocked-identifiers?dryRun=true', {
      body,
    })
    if (!preview.ok) return say(result, `Could not preview the block: ${preview.message}`, true)
    const confirm = h('button', { type: 'button', class: 'danger' }, 'Confirm block')
    const cancel = h('button', { type: 'button' }, 'Cancel')
    cancel.addEventListener('click', () => fill(result))
    confirm.addEventListener('click', async () => {
      confirm.disabled = true
      const done = await callApi<BlockAnswer>('POST', '/api/blocked-identifiers', { body })
      if (!done.ok) return say(result, `The block failed: ${done.message}`, true)
      const primaries = done.data.splits.flatMap((split) => split.into)
      fill(
        result,
        h('p', { role: 'status' }, `Blocked ${KIND_WORDS[kind]} ${value}.`),
        describeSplits(done.data.splits),
        primaries.length > 0 ? await renderCustomersNow(primaries) : null,
      )
      await deps.refresh()
    })
    fill(
      result,
      h(
        'div',
        { id: 'block-preview', class: 'preview' },
        h('h4', {}, `Preview: block ${KIND_WORDS[kind]} ${value}`),
        h('p', {}, 'Nothing has changed yet. Blocking stops this value from joining customers:'),
        describeSplits(preview.data.splits),
        confirm,
        ' ',
        cancel,
      ),
    )
    confirm.focus()
  })
  return h(
    'section',
    { 'aria-labelledby': 'block-title' },
    h('h3', { id: 'block-title' }, 'Block a value'),
    form,
    result,
  )
}

function blockedListSection(): HTMLElement {
  const list = h('div', { id: 'blocked-list', 'aria-live': 'polite' })
  const show = h('button', { type: 'button' }, 'Show blocked values')
  const load = async () => {
    say(list, 'Reading blocked values…')
    const answer = await callApi<{ blocked: Blocked[] }>('GET', '/api/blocked-identifiers')
    if (!answer.ok) return say(list, `Could not read blocked values: ${answer.message}`, true)
    if (answer.data.blocked.length === 0) return say(list, 'No value is blocked or quarantined.')
    const rows = answer.data.blocked.map((blocked) => {
      const unblock = h(
        'button',
        { type: 'button', 'aria-label': `Unblock ${KIND_WORDS[blocked.kind]} ${blocked.value}` },
        'Unblock',
      )
      unblock.addEventListener('click', async () => {
        unblock.disabled = true
        const done = await callApi<UnblockAnswer>('DELETE', '/api/blocked-identifiers', {
          body: { [blocked.kind]: blocked.value },
        })
        if (!done.ok) return say(list, `Could not unblock: ${done.message}`, true)
        const merged = done.data.merges.map(
          (merge) =>
            `#${merge.primaryContactId} absorbed ${merge.absorbed.map((id) => `#${id}`).join(', ')}`,
        )
        await load()
        list.prepend(
          h(
            'p',
            { role: 'status' },
            `Unblocked ${KIND_WORDS[blocked.kind]} ${blocked.value}.`,
            merged.length > 0 ? ` Customers joined again: ${merged.join('; ')}.` : '',
          ),
        )
      })
      return h(
        'tr',
        {},
        h('td', {}, KIND_WORDS[blocked.kind]),
        h('td', {}, blocked.value),
        h('td', {}, REASON_WORDS[blocked.reason] ?? blocked.reason),
        h('td', {}, formatTime(blocked.createdAt)),
        h('td', {}, unblock),
      )
    })
    fill(
      list,
      h(
        'div',
        {
          class: 'table-scroll',
          role: 'region',
          'aria-label': 'Blocked values table',
          tabindex: 0,
        },
        h(
          'table',
          {},
          h('caption', {}, 'Blocked and quarantined values'),
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              ...['Kind', 'Value', 'Reason', 'Since', 'Action'].map((title) =>
                h('th', { scope: 'col' }, title),
              ),
            ),
          ),
          h('tbody', {}, ...rows),
        ),
      ),
    )
  }
  show.addEventListener('click', () => void load())
  return h(
    'section',
    { 'aria-labelledby': 'blocked-title' },
    h('h3', { id: 'blocked-title' }, 'Blocked values'),
    show,
    list,
  )
}

// A typed confirmation: the button that does it works only once `expected` is typed.
function typedConfirmation(
  prefix: string,
  expected: string,
  label: string,
  run: () => Promise<void>,
) {
  const input = h('input', {
    id: `${prefix}-confirm`,
    type: 'text',
    autocomplete: 'off',
    spellcheck: 'false',
  })
  const button = h('button', { type: 'button', class: 'danger', disabled: true }, label)
  input.addEventListener('input', () => {
    button.disabled = input.value.trim() !== expected
  })
  button.addEventListener('click', () => {
    button.disabled = true
    void run()
  })
  return [h('label', { for: input.id }, `To confirm, type ${expected}`), input, button]
}

function eraseCustomerSection(): HTMLElement {
  const id = h('input', {
    id: 'erase-customer-id',
    type: 'text',
    inputmode: 'numeric',
    autocomplete: 'off',
  })
  const result = h('div', { id: 'erase-customer-result', 'aria-live': 'polite' })
  const form = h(
    'form',
    { method: 'post', class: 'inline', novalidate: true },
    h('label', { for: id.id }, 'Contact id of the customer'),
    id,
    h('button', { type: 'submit' }, 'Preview erasure'),
  )
  form.addEventListener('submit', async (event) => {
    event.preventDefault()
    const contactId = id.value.trim().replace(/^#/, '')
    if (!/^\d+$/.test(contactId)) return say(result, 'Enter a contact id, a whole number.', true)
    say(result, 'Asking what erasure would remove…')
    const preview = await callApi<CustomerErasure>(
      'DELETE',
      `/api/customers/${contactId}?dryRun=true`,
    )
    if (!preview.ok) return say(result, `Could not preview the erasure: ${preview.message}`, true)
    const { erased } = preview.data
    fill(
      result,
      h(
        'div',
        { id: 'erase-customer-preview', class: 'preview' },
        h('h4', {}, `Preview: erase the customer of contact #${contactId}`),
        h('p', {}, 'Nothing has changed yet. Erasing removes for good:'),
        removalList(erased.contactIds, erased.emails, erased.phoneNumbers),
        ...typedConfirmation('erase-customer', contactId, 'Erase customer', async () => {
          const done = await callApi<CustomerErasure>('DELETE', `/api/customers/${contactId}`)
          if (!done.ok) return say(result, `The erasure failed: ${done.message}`, true)
          say(
            result,
            `Erased ${done.data.erased.contactIds.length} contacts: ${done.data.erased.contactIds.map((c) => `#${c}`).join(', ')}.`,
          )
          await deps.refresh()
        }),
      ),
    )
    byId('erase-customer-confirm').focus()
  })
  return h(
    'section',
    { 'aria-labelledby': 'erase-customer-title' },
    h('h3', { id: 'erase-customer-title' }, 'Erase a customer'),
    form,
    result,
  )
}

function removalList(
  contactIds: readonly number[],
  emails: readonly string[],
  phones: readonly string[],
) {
  const line = (label: string, values: readonly string[]) =>
    h('li', {}, `${label}: ${values.length === 0 ? 'none' : values.join(', ')}`)
  return h(
    'ul',
    { class: 'removal' },
    line(
      'Contacts',
      contactIds.map((c) => `#${c}`),
    ),
    line('Emails', emails),
    line('Phone numbers', phones),
  )
}

function eraseIdentifierSection(): HTMLElement {
  const { fields, read } = identifierFields('erase-identifier')
  const result = h('div', { id: 'erase-identifier-result', 'aria-live': 'polite' })
  const form = h(
    'form',
    { method: 'post', class: 'inline', novalidate: true },
    ...fields,
    h('button', { type: 'submit' }, 'Preview erasure'),
  )
  form.addEventListener('submit', async (event) => {
    event.preventDefault()
    const { kind, value, body } = read()
    if (value === '') return say(result, 'Enter the value to erase.', true)
    say(result, 'Asking what erasure would remove…')
    const preview = await callApi<IdentifierErasure>('DELETE', '/api/identifiers?dryRun=true', {
      body,
    })
    if (!preview.ok) return say(result, `Could not preview the erasure: ${preview.message}`, true)
    const { erased, splits } = preview.data
    fill(
      result,
      h(
        'div',
        { id: 'erase-identifier-preview', class: 'preview' },
        h('h4', {}, `Preview: erase ${KIND_WORDS[kind]} ${value}`),
        h(
          'p',
          {},
          `Nothing has changed yet. The value is removed from contacts ${erased.contactIds.map((c) => `#${c}`).join(', ')}; contacts left with no identifier are deleted: ${erased.deletedContactIds.length === 0 ? 'none' : erased.deletedContactIds.map((c) => `#${c}`).join(', ')}.`,
        ),
        describeSplits(splits),
        ...typedConfirmation('erase-identifier', value, 'Erase value', async () => {
          const done = await callApi<IdentifierErasure>('DELETE', '/api/identifiers', { body })
          if (!done.ok) return say(result, `The erasure failed: ${done.message}`, true)
          const primaries = done.data.splits.flatMap((split) => split.into)
          fill(
            result,
            h(
              'p',
              { role: 'status' },
              `Erased ${KIND_WORDS[kind]} ${value} from ${done.data.erased.contactIds.length} contacts.`,
            ),
            describeSplits(done.data.splits),
            primaries.length > 0 ? await renderCustomersNow(primaries) : null,
          )
          await deps.refresh()
        }),
      ),
    )
    byId('erase-identifier-confirm').focus()
  })
  return h(
    'section',
    { 'aria-labelledby': 'erase-identifier-title' },
    h('h3', { id: 'erase-identifier-title' }, 'Erase one email or phone number'),
    form,
    result,
  )
}
