// What the corrections share: the identifier fields, messages, the splits in words, the customers
// as a change left them, and the typed confirmation that guards an erasure.
import { callApi } from './api.js'
import { fill, h } from './dom.js'
import type { Customer, IdentifierKind, Split } from './types.js'

/** What the corrections need of the main view. */
export type GuardDeps = {
  /** Shows the customer of `contactId` in the main view. */
  reopen: (contactId: number) => Promise<void>
  /** Reads the customer on screen again, after a change that may have cut it. */
  refresh: () => Promise<void>
}

/** An identifier kind as a person says it. */
export const KIND_WORDS: Record<IdentifierKind, string> = {
  email: 'email',
  phoneNumber: 'phone number',
}

/** Contact ids as the console writes them: `#3, #5`. */
export const toIdList = (ids: readonly number[]) => ids.map((id) => `#${id}`).join(', ')

/** Returns labelled kind and value fields (ids start with `prefix`), and a reader of them. */
export function identifierFields(prefix: string) {
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

/** Replaces `element`'s content with `text`; an error is announced at once. */
export const say = (element: HTMLElement, text: string, isError = false) =>
  fill(element, h('p', isError ? { class: 'error', role: 'alert' } : {}, text))

/** Returns the customers a change splits, in words. */
export function describeSplits(splits: readonly Split[]): HTMLElement {
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
        toIdList(split.into),
      ),
    ),
  )
}

/** Returns each customer as it now is, with a button that opens it. */
export async function renderCustomersNow(
  primaryIds: readonly number[],
  reopen: GuardDeps['reopen'],
): Promise<HTMLElement> {
  const items = await Promise.all(
    primaryIds.map(async (id) => {
      const answer = await callApi<Customer>('GET', `/api/customers/${id}`)
      if (!answer.ok) return h('li', {}, `#${id}: ${answer.message}`)
      const open = h(
        'button',
        { type: 'button' },
        `Open customer #${answer.data.contact.primaryContactId}`,
      )
      open.addEventListener('click', () => void reopen(id))
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

/** Returns a labelled input and a button that works only once `expected` is typed into it. */
export function typedConfirmation(
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

/** A value a correction form read: its kind, the value, and the API body naming it. */
export type ValueInput = ReturnType<ReturnType<typeof identifierFields>['read']>

/**
 * Returns a section with a title, kind and value fields, a preview button and a live result area;
 * a submit with a value calls `preview`, which fills `result` (ids start with `prefix`).
 */
export function valueFormSection(spec: {
  prefix: string
  title: string
  button: string
  /** Said when the value is empty. */
  emptyMessage: string
  preview: (input: ValueInput, result: HTMLElement) => Promise<void>
}): HTMLElement {
  const { fields, read } = identifierFields(spec.prefix)
  const result = h('div', { id: `${spec.prefix}-result`, 'aria-live': 'polite' })
  const form = h(
    'form',
    { method: 'post', class: 'inline', novalidate: true },
    ...fields,
    h('button', { type: 'submit' }, spec.button),
  )
  form.addEventListener('submit', async (event) => {
    event.preventDefault()
    const input = read()
    if (input.value === '') return say(result, spec.emptyMessage, true)
    await spec.preview(input, result)
  })
  return h(
    'section',
    { 'aria-labelledby': `${spec.prefix}-title` },
    h('h3', { id: `${spec.prefix}-title` }, spec.title),
    form,
    result,
  )
}

/** Fills `result` with what a correction did: a status line, the splits, the customers now. */
export async function showDone(
  result: HTMLElement,
  status: string,
  splits: readonly Split[],
  deps: GuardDeps,
): Promise<void> {
  const primaries = splits.flatMap((split) => split.into)
  fill(
    result,
    h('p', { role: 'status' }, status),
    describeSplits(splits),
    primaries.length > 0 ? await renderCustomersNow(primaries, deps.reopen) : null,
  )
  await deps.refresh()
}
