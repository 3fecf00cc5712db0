// Erasure (GDPR Art. 17) of a whole customer or of one value: a preview of what goes, then a
// typed confirmation (the contact id, or the value) before anything is removed.
import { callApi } from './api.js'
import { byId, fill, h } from './dom.js'
import {
  describeSplits,
  type GuardDeps,
  KIND_WORDS,
  say,
  showDone,
  toIdList,
  typedConfirmation,
  valueFormSection,
} from './guard-parts.js'
import type { CustomerErasure, IdentifierErasure } from './types.js'

/** Returns the form that erases the customer of a contact id. */
export function eraseCustomerSection(deps: GuardDeps): HTMLElement {
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
            `Erased ${done.data.erased.contactIds.length} contacts: ${toIdList(done.data.erased.contactIds)}.`,
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

/** Returns the form that erases one email or phone number wherever it is held. */
export function eraseIdentifierSection(deps: GuardDeps): HTMLElement {
  return valueFormSection({
    prefix: 'erase-identifier',
    title: 'Erase one email or phone number',
    button: 'Preview erasure',
    emptyMessage: 'Enter the value to erase.',
    async preview({ kind, value, body }, result) {
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
            `Nothing has changed yet. The value is removed from contacts ${toIdList(erased.contactIds)}; contacts left with no identifier are deleted: ${erased.deletedContactIds.length === 0 ? 'none' : toIdList(erased.deletedContactIds)}.`,
          ),
          describeSplits(splits),
          ...typedConfirmation('erase-identifier', value, 'Erase value', async () => {
            const done = await callApi<IdentifierErasure>('DELETE', '/api/identifiers', { body })
            if (!done.ok) return say(result, `The erasure failed: ${done.message}`, true)
            const status = `Erased ${KIND_WORDS[kind]} ${value} from ${done.data.erased.contactIds.length} contacts.`
            await showDone(result, status, done.data.splits, deps)
          }),
        ),
      )
      byId('erase-identifier-confirm').focus()
    },
  })
}
