// The customer: identify's consolidated answer, and its contacts as a table, one page at a time.
import { formatTime, h } from './dom.js'
import type { Customer } from './types.js'

/** Returns the consolidated answer, as identify gives it, in words and lists. */
export function renderSummary(customer: Customer): HTMLElement {
  const { contact } = customer
  const list = (label: string, values: readonly (string | number)[]) =>
    h(
      'div',
      { class: 'field' },
      h('dt', {}, label),
      h('dd', {}, values.length === 0 ? 'none' : values.map(String).join(', ')),
    )
  return h(
    'dl',
    { class: 'summary', 'data-contact-count': customer.contacts.length },
    list('Primary contact', [`#${contact.primaryContactId}`]),
    list('Emails', contact.emails),
    list('Phone numbers', contact.phoneNumbers),
    list(
      'Secondary contacts',
      contact.secondaryContactIds.length > 20
        ? [`${contact.secondaryContactIds.length} contacts`]
        : contact.secondaryContactIds.map((id) => `#${id}`),
    ),
  )
}

/** Returns the table of `contacts` (one page), with what is blocked said in words. */
export function renderContacts(
  customer: Customer,
  page: { items: Customer['contacts']; caption: string },
) {
  const blocked = (value: string | null, isBlocked: boolean | undefined) =>
    value === null
      ? h('span', { class: 'none' }, 'none')
      : h('span', {}, value, isBlocked === true && h('span', { class: 'tag blocked' }, ' blocked'))
  const rows = page.items.map((contact) =>
    h(
      'tr',
      { 'data-contact-id': contact.id },
      h('th', { scope: 'row' }, `#${contact.id}`),
      h('td', {}, blocked(contact.email, contact.emailBlocked)),
      h('td', {}, blocked(contact.phoneNumber, contact.phoneNumberBlocked)),
      h(
        'td',
        {},
        contact.linkPrecedence === 'primary'
          ? h('strong', {}, 'primary')
          : `secondary of #${contact.linkedId ?? customer.contact.primaryContactId}`,
      ),
      h('td', {}, formatTime(contact.createdAt)),
    ),
  )
  return h(
    'div',
    { class: 'table-scroll', role: 'region', 'aria-label': 'Contacts table', tabindex: 0 },
    h(
      'table',
      { id: 'contacts-table' },
      h('caption', {}, page.caption),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ...['Contact', 'Email', 'Phone number', 'Link', 'Created'].map((title) =>
            h('th', { scope: 'col' }, title),
          ),
        ),
      ),
      h('tbody', {}, ...rows),
    ),
  )
}
