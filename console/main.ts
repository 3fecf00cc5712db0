// The staff console: sign in, find a customer, see its graph and why it holds together, its
// events, and correct it. Each part lives in a module of its own; this one signs in, searches,
// and wires the rest to the page.
import { callApi } from './api.js'
import { clearCustomer, refreshCustomer, runExplain, showCustomer } from './customer-page.js'
import { byId, fill } from './dom.js'
import { forgetEvents } from './events-view.js'
import { resetGuard, startGuard } from './guard-view.js'
import { forgetKey, readKey, storeKey } from './session.js'
import type { Customer } from './types.js'

type SearchKind = 'email' | 'phoneNumber' | 'contactId'

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
  clearCustomer()
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
    // A blocked value names no customer: a miss with a reason, not a failure.
    const isMiss = answer.status === 404 || answer.code === 'blocked_identifier'
    message.textContent = isMiss
      ? `No match: ${answer.message}.`
      : `Search failed: ${answer.message}`
    message.dataset.outcome = isMiss ? 'miss' : 'error'
    return
  }
  message.dataset.outcome = 'hit'
  const count = answer.data.contacts.length
  message.textContent = `Found customer #${answer.data.contact.primaryContactId} with ${count} contact${count === 1 ? '' : 's'}.`
  showCustomer(answer.data)
  byId('customer-title').focus()
}

let searches = 0

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
  startGuard({
    reopen: (contactId) => search('contactId', String(contactId)),
    refresh: refreshCustomer,
  })
  showSignedIn(readKey() !== null)
}

start()
