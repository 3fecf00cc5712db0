// The staff console (/console) end to end: a real Chromium (Debian's, driven by playwright-core)
// against the service as its own process (`npm start`'s scripts/serve.ts, which builds the
// console) on a real PostgreSQL. UPDATE_SCREENSHOTS=1 rewrites the screenshots in docs/console/.
import { mkdir, mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { AxeBuilder } from '@axe-core/playwright'
import pg from 'pg'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { type ServiceProcess, startServiceProcess } from '../harness/service-process.js'
import { collectPageErrors, launchBrowser } from './support/browser.js'
import { createServerDatabase } from './support/database.js'

const ADMIN_KEY = 'console-test-admin-key'
const root = fileURLToPath(new URL('..', import.meta.url))
const shotsDir =
  process.env.UPDATE_SCREENSHOTS === '1'
    ? join(root, 'docs', 'console')
    : await mkdtemp(join(tmpdir(), 'console-shots-'))

// The task statement's example, then a longer chain: customer #3 holds contacts 3 to 7. Contact
// 4 joined it only through the request george + 717171, which inserted no row (a request pair).
const ORDERS = [
  { email: 'lorraine@hillvalley.edu', phoneNumber: '123456' },
  { email: 'mcfly@hillvalley.edu', phoneNumber: '123456' },
  { email: 'george@hillvalley.edu', phoneNumber: '919191' },
  { email: 'biffsucks@hillvalley.edu', phoneNumber: '717171' },
  { email: 'george@hillvalley.edu', phoneNumber: '717171' },
  { email: 'doc@hillvalley.edu', phoneNumber: '919191' },
  { email: 'doc@hillvalley.edu', phoneNumber: '555000' },
  { email: 'marty@hillvalley.edu', phoneNumber: '555000' },
]
const LARGE_PHONE = '999000'
const LARGE_SIZE = 1_200

// Customers the corrections change, one per test, so that no test depends on another's.
const GUARD_ORDERS = {
  // 310310 alone joins ann to bob; bob's email joins his two orders.
  block: [
    { email: 'ann@guard.test', phoneNumber: '310310' },
    { email: 'bob@guard.test', phoneNumber: '310310' },
    { email: 'bob@guard.test', phoneNumber: '420420' },
  ],
  unblock: [
    { email: 'hal@guard.test', phoneNumber: '860860' },
    { email: 'ivy@guard.test', phoneNumber: '860860' },
  ],
  eraseCustomer: [
    { email: 'erin@erase.test', phoneNumber: '530530' },
    { email: 'erin@erase.test', phoneNumber: '640640' },
  ],
  eraseValue: [
    { email: 'fay@erase.test', phoneNumber: '750750' },
    { email: 'gus@erase.test', phoneNumber: '750750' },
  ],
}
type IdentifiedContact = { primaryContactId: number; secondaryContactIds: number[] }
// Each group's customer as identify last answered it.
const guard = {} as Record<keyof typeof GUARD_ORDERS, IdentifiedContact>

async function identify(order: object): Promise<IdentifiedContact> {
  const answer = await fetch(`${service.url}/identify`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(order),
  })
  expect(answer.status).toBe(200)
  return ((await answer.json()) as { contact: IdentifiedContact }).contact
}

async function callAdmin(method: string, path: string, body?: object) {
  const answer = await fetch(`${service.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  return { status: answer.status, body: (await answer.json()) as unknown }
}

let database: { url: string; drop: () => Promise<void> }
let service: ServiceProcess
let browser: Browser
let context: BrowserContext
let page: Page
let pageErrors: string[]
let hasPairs = false

beforeAll(async () => {
  database = await createServerDatabase()
  const [started, launched] = await Promise.all([
    startServiceProcess({ DATABASE_URL: database.url, ADMIN_API_KEYS: ADMIN_KEY }),
    launchBrowser(),
  ])
  service = started
  browser = launched
  for (const order of ORDERS) {
    const answer = await fetch(`${service.url}/identify`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(order),
    })
    expect(answer.status).toBe(200)
  }
  for (const [group, orders] of Object.entries(GUARD_ORDERS)) {
    for (const order of orders) guard[group as keyof typeof GUARD_ORDERS] = await identify(order)
  }
  // A customer of 1,200 orders sharing one phone number, written in one statement.
  const client = new pg.Client({ connectionString: database.url })
  await client.connect()
  await client.query(
    `with primary_row as (
       insert into "Contact" ("email", "phoneNumber", "linkPrecedence")
       values ('bulk0@example.com', $1, 'primary') returning "id")
     insert into "Contact" ("email", "phoneNumber", "linkPrecedence", "linkedId", "createdAt")
     select 'bulk' || n || '@example.com', $1, 'secondary', primary_row."id", now() + n * interval '1 ms'
     from primary_row, generate_series(1, $2::int - 1) as n`,
    [LARGE_PHONE, LARGE_SIZE],
  )
  await client.end()
  // The guard API adds request pairs to the lookup; before it, the console draws none.
  const lookup = await fetch(`${service.url}/api/customers/3`, {
    headers: { authorization: `Bearer ${ADMIN_KEY}` },
  })
  hasPairs = Array.isArray(((await lookup.json()) as { pairs?: unknown }).pairs)
  await mkdir(shotsDir, { recursive: true })
})

afterAll(async () => {
  await browser?.close()
  await service?.stop()
  await database?.drop()
})

beforeEach(async () => {
  context = await browser.newContext({ viewport: { width: 1100, height: 900 } })
  page = await context.newPage()
  pageErrors = collectPageErrors(page)
  await page.goto(`${service.url}/console`)
})

afterEach(async () => {
  await context.close()
  expect(pageErrors, 'errors in the page').toEqual([])
})

async function signIn(key = ADMIN_KEY) {
  await page.getByLabel('Admin key').fill(key)
  await page.getByRole('button', { name: 'Sign in' }).click()
}

async function searchFor(kind: 'Email' | 'Phone number' | 'Contact id', value: string) {
  await page.getByLabel('Search by').selectOption({ label: kind })
  await page.getByLabel('Value', { exact: true }).first().fill(value)
  await page.getByRole('button', { name: 'Search' }).click()
}

const graph = () => page.locator('#graph')

async function seriousViolations() {
  const { violations } = await new AxeBuilder({ page }).analyze()
  return violations
    .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
    .map((violation) => `${violation.id}: ${violation.nodes.map((node) => node.target).join(' ')}`)
}

describe('signing in', () => {
  test('a wrong key is refused in words, and nothing else is shown', async () => {
    await signIn('not-the-key')
    await expect
      .poll(() => page.locator('#sign-in-message').textContent())
      .toBe('That admin key was refused. Check it and try again.')
    expect(await page.locator('#workspace').isHidden()).toBe(true)
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0)
  })

  test('the right key opens the console, lives in sessionStorage only, and signing out forgets it', async () => {
    const requests: { url: string; authorization: string | undefined }[] = []
    page.on('request', (request) =>
      requests.push({ url: request.url(), authorization: request.headers().authorization }),
    )
    await signIn()
    await page.locator('#search-value').waitFor()
    expect(await page.evaluate(() => Object.values(sessionStorage))).toEqual([ADMIN_KEY])
    const api = requests.filter((request) => request.url.includes('/api/'))
    expect(api.length).toBeGreaterThan(0)
    for (const request of api) {
      expect(request.authorization).toBe(`Bearer ${ADMIN_KEY}`)
      expect(request.url).not.toContain(ADMIN_KEY)
    }
    expect(await context.cookies()).toEqual([])
    // A reload keeps the tab signed in.
    await page.reload()
    await page.locator('#search-value').waitFor()
    await page.getByRole('button', { name: 'Sign out' }).click()
    await page.getByLabel('Admin key').waitFor()
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0)
    expect(await page.locator('#sign-in-message').textContent()).toContain('Signed out')
    expect(await seriousViolations()).toEqual([])
  })
})

describe('a signed-in staff member', () => {
  beforeEach(async () => {
    await signIn()
    await page.locator('#search-value').waitFor()
  })

  test('a search that matches nothing says so', async () => {
    await searchFor('Email', 'nobody@hillvalley.edu')
    await expect.poll(() => page.locator('#search-message').textContent()).toMatch(/^No match: /)
    expect(await page.locator('#customer').isHidden()).toBe(true)
  })

  test('a malformed value is answered in words, from the API', async () => {
    await searchFor('Contact id', 'abc')
    await expect
      .poll(() => page.locator('#search-message').textContent())
      .toMatch(/^Search failed: .*contact id/)
  })

  test('finds a customer by email: its answer, its contacts and its graph', async () => {
    await searchFor('Email', 'DOC@hillvalley.edu ')
    await page.locator('#contacts-table').waitFor()
    expect(await page.locator('#customer-title').textContent()).toBe('Customer #3')
    const summary = await page.locator('#customer-summary').textContent()
    expect(summary).toContain('george@hillvalley.edu, biffsucks@hillvalley.edu, doc@hillvalley.edu')
    expect(summary).toContain('919191, 717171, 555000')
    const rows = page.locator('#contacts-table tbody tr')
    expect(
      await rows.evaluateAll((all) => all.map((row) => row.getAttribute('data-contact-id'))),
    ).toEqual(['3', '4', '5', '6', '7'])
    // Shared 919191 (3-5), doc@ (5-6) and 555000 (6-7), and george + 717171 (3-4).
    expect(await graph().getAttribute('data-node-count')).toBe('5')
    expect(await graph().getAttribute('data-edge-count')).toBe('4')
    // 3-4 is the request pair where the lookup returns pairs, else the stored link.
    expect(await graph().getAttribute('data-edge-kinds')).toBe(
      hasPairs ? 'email:1 pair:1 phone:2' : 'email:1 link:1 phone:2',
    )
    expect(await graph().locator('canvas').count()).toBeGreaterThan(0)
    await page.screenshot({ path: join(shotsDir, 'search.png'), fullPage: false })
    await page.locator('.graph-frame').screenshot({ path: join(shotsDir, 'graph.png') })
    expect(await seriousViolations()).toEqual([])
  })

  test('finds the same customer by phone number and by contact id', async () => {
    await searchFor('Phone number', '(555) 000')
    await expect.poll(() => page.locator('#customer-title').textContent()).toBe('Customer #3')
    await searchFor('Contact id', '#1')
    await expect.poll(() => page.locator('#customer-title').textContent()).toBe('Customer #1')
    expect(await graph().getAttribute('data-node-count')).toBe('2')
    expect(await graph().getAttribute('data-edge-count')).toBe('1')
  })

  test('explains why two contacts are one customer, highlighting the path', async () => {
    await searchFor('Email', 'marty@hillvalley.edu')
    await page.locator('#contacts-table').waitFor()
    await page.getByLabel('From contact').selectOption('4')
    await page.getByLabel('To contact').selectOption('7')
    await page.getByRole('button', { name: 'Explain' }).click()
    const steps = page.locator('#explain-steps li')
    await steps.first().waitFor()
    // 4 -(george + 717171)- 3 -(919191)- 5 -(doc@)- 6 -(555000)- 7
    expect(
      await steps.evaluateAll((all) => all.map((step) => step.getAttribute('data-kind'))),
    ).toEqual(['request-pair', 'shared-phone', 'shared-email', 'shared-phone'])
    expect(await steps.first().textContent()).toContain('george@hillvalley.edu')
    expect(await graph().getAttribute('data-highlighted-nodes')).toBe('5')
    expect(await graph().getAttribute('data-highlighted-edges')).toBe('4')
    await page.locator('#customer').screenshot({ path: join(shotsDir, 'explain.png') })
    expect(await seriousViolations()).toEqual([])
  })

  test("lists the customer's recent events, newest first", async () => {
    await searchFor('Contact id', '7')
    const events = page.locator('#events-list li')
    await events.first().waitFor()
    const texts = await events.allTextContents()
    // Created by george's order, then doc's and marty's orders linked, newest first.
    expect(texts[0]).toContain('contact linked to #3')
    expect(texts.at(-1)).toContain('customer #3 created')
    expect(texts.some((text) => text.includes('merged into #3'))).toBe(true)
    const times = await events
      .locator('time')
      .evaluateAll((all) => all.map((time) => time.getAttribute('datetime') ?? ''))
    expect([...times].sort().reverse()).toEqual(times)
  })

  test('a customer of 1,200 contacts is paged, and the tab stays responsive', async () => {
    const started = Date.now()
    await searchFor('Phone number', LARGE_PHONE)
    await page.locator('#contacts-table').waitFor()
    await expect.poll(() => graph().getAttribute('data-node-count')).toBe('200')
    expect(Date.now() - started).toBeLessThan(10_000)
    expect(await page.locator('#customer-summary dl').getAttribute('data-contact-count')).toBe(
      String(LARGE_SIZE),
    )
    // Every order holds the one phone number: a star around the page's oldest contact.
    expect(await graph().getAttribute('data-edge-count')).toBe('199')
    expect(await page.locator('#contacts-table caption').textContent()).toContain('1–200 of 1200')
    // The pickers start at the oldest and the newest contact; the newest is on the last page.
    await page.getByRole('button', { name: 'Explain' }).click()
    await page.locator('#explain-steps li').first().waitFor()
    const newest = await page.locator('#explain-to').inputValue()
    expect(await page.locator('#explain-off-page').textContent()).toContain(
      `#${newest}, on other pages`,
    )
    await page.getByRole('button', { name: 'Next page' }).click()
    await expect
      .poll(() => page.locator('#contacts-table caption').textContent())
      .toContain('201–400 of 1200')
    // The main thread answers at once: nothing long is running.
    const ping = Date.now()
    await page.evaluate(() => 1 + 1)
    expect(Date.now() - ping).toBeLessThan(1_000)
  })

  test('is readable at 375 px wide', async () => {
    await page.setViewportSize({ width: 375, height: 800 })
    await searchFor('Email', 'doc@hillvalley.edu')
    await page.locator('#contacts-table').waitFor()
    const overflow = await page.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
    )
    expect(overflow).toBeLessThanOrEqual(0)
    await page.screenshot({ path: join(shotsDir, 'narrow.png'), fullPage: false })
    expect(await seriousViolations()).toEqual([])
  })
})

describe('with the keyboard alone', () => {
  // Presses Tab (or Shift+Tab) until `selector` has the focus; fails if it never gets it.
  async function tabTo(selector: string, backwards = false) {
    for (let presses = 0; presses < 40; presses++) {
      if (await page.evaluate((s) => document.activeElement?.matches(s) ?? false, selector)) return
      await page.keyboard.press(backwards ? 'Shift+Tab' : 'Tab')
    }
    throw new Error(`Tab never reached ${selector}`)
  }

  test('sign in, search, explain and sign out', async () => {
    await tabTo('#admin-key')
    await page.keyboard.type(ADMIN_KEY)
    await page.keyboard.press('Enter')
    // Signing in puts the focus in the search field.
    await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe('search-value')
    await page.keyboard.type('george@hillvalley.edu')
    await page.keyboard.press('Enter')
    // The customer's heading takes the focus, so a screen reader reads where it landed.
    await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe('customer-title')
    await tabTo('#explain-to')
    await page.keyboard.press('Home')
    await page.keyboard.press('ArrowDown')
    expect(await page.locator('#explain-to').inputValue()).toBe('4')
    await tabTo('#explain-form button')
    await page.keyboard.press('Enter')
    await page.locator('#explain-steps li').first().waitFor()
    expect(await graph().getAttribute('data-highlighted-nodes')).toBe('2')
    await tabTo('#sign-out', true)
    await page.keyboard.press('Enter')
    await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe('admin-key')
  })
})

describe('corrections, through the guard endpoints', () => {
  beforeEach(async () => {
    await signIn()
    await page.locator('#search-value').waitFor()
  })

  const ids = (list: number[]) => list.map((id) => `#${id}`).join(', ')

  test('block: the dry run first, then confirm, then the customers as they now are', async () => {
    const { primaryContactId: ann, secondaryContactIds: bobs } = guard.block
    const [bob = 0, bobAgain = 0] = bobs
    await searchFor('Email', 'ann@guard.test')
    await expect.poll(() => graph().getAttribute('data-node-count')).toBe('3')
    await page.locator('#block-kind').selectOption('phoneNumber')
    await page.locator('#block-value').fill('310310')
    await page.getByRole('button', { name: 'Preview block' }).click()
    const preview = page.locator('#block-preview')
    await preview.waitFor()
    expect(await preview.textContent()).toContain(
      `Customer #${ann} splits into 2 customers: #${ann}, #${bob}`,
    )
    // Nothing has changed yet.
    expect((await callAdmin('GET', `/api/customers/${bob}`)).body).toMatchObject({
      contact: { primaryContactId: ann },
    })
    await page.locator('#guard').screenshot({ path: join(shotsDir, 'block-preview.png') })
    expect(await seriousViolations()).toEqual([])
    // The focus is on the confirmation, so Enter confirms.
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Confirm block')
    await page.keyboard.press('Enter')
    const now = page.locator('#customers-now li')
    await now.nth(1).waitFor()
    expect(await now.allTextContents()).toEqual([
      `Customer #${ann}: contacts #${ann} Open customer #${ann}`,
      `Customer #${bob}: contacts ${ids([bob, bobAgain])} Open customer #${bob}`,
    ])
    // The customer on screen is shown as it now is: ann alone, her phone number marked blocked.
    await expect.poll(() => graph().getAttribute('data-node-count')).toBe('1')
    expect(await graph().getAttribute('data-blocked-nodes')).toBe('1')
    expect(await page.locator('#contacts-table tbody tr').first().textContent()).toContain(
      '310310 blocked',
    )
    await page.getByRole('button', { name: `Open customer #${bob}` }).click()
    await expect.poll(() => page.locator('#customer-title').textContent()).toBe(`Customer #${bob}`)
    expect(await graph().getAttribute('data-node-count')).toBe('2')
    // A blocked value names no customer, and the search says why.
    await searchFor('Phone number', '310310')
    await expect
      .poll(() => page.locator('#search-message').textContent())
      .toMatch(/^No match: That value is blocked: it joins no one/)
    // Blocking it again is refused, in words.
    await page.getByRole('button', { name: 'Preview block' }).click()
    await expect
      .poll(() => page.locator('#block-result').textContent())
      .toBe('Could not preview the block: That value is on the blocklist already')
  })

  test('the blocked list gives the reason, and unblocking joins the customers again', async () => {
    const {
      primaryContactId: hal,
      secondaryContactIds: [ivy = 0],
    } = guard.unblock
    expect(
      (await callAdmin('POST', '/api/blocked-identifiers', { phoneNumber: '860860' })).status,
    ).toBe(201)
    await page.getByRole('button', { name: 'Show blocked values' }).click()
    const row = page.locator('#blocked-list tbody tr', { hasText: '860860' })
    await row.waitFor()
    expect(await row.textContent()).toContain('blocked by the store')
    await page.getByRole('button', { name: 'Unblock phone number 860860' }).click()
    await expect
      .poll(() => page.locator('#blocked-list [role=status]').textContent())
      .toBe(`Unblocked phone number 860860. Customers joined again: #${hal} absorbed #${ivy}.`)
    expect(await page.locator('#blocked-list tbody tr', { hasText: '860860' }).count()).toBe(0)
  })

  test('erase a customer: what goes is shown, and only the typed id confirms it', async () => {
    const {
      primaryContactId: erin,
      secondaryContactIds: [erinAgain = 0],
    } = guard.eraseCustomer
    await page.getByLabel('Contact id of the customer').fill(String(erinAgain))
    await page
      .locator('#guard form')
      .nth(1)
      .getByRole('button', { name: 'Preview erasure' })
      .click()
    const preview = page.locator('#erase-customer-preview')
    await preview.waitFor()
    const said = await preview.textContent()
    expect(said).toContain(`Contacts: ${ids([erin, erinAgain])}`)
    expect(said).toContain('Emails: erin@erase.test')
    expect(said).toContain('Phone numbers: 530530, 640640')
    const erase = page.getByRole('button', { name: 'Erase customer' })
    expect(await erase.isDisabled()).toBe(true)
    const confirmation = page.getByLabel(`To confirm, type ${erinAgain}`)
    await confirmation.fill(String(erin))
    expect(await erase.isDisabled()).toBe(true)
    expect((await callAdmin('GET', `/api/customers/${erin}`)).status).toBe(200)
    await confirmation.fill(String(erinAgain))
    await erase.click()
    await expect
      .poll(() => page.locator('#erase-customer-result').textContent())
      .toBe(`Erased 2 contacts: ${ids([erin, erinAgain])}.`)
    expect((await callAdmin('GET', `/api/customers/${erin}`)).status).toBe(404)
    await searchFor('Email', 'erin@erase.test')
    await expect.poll(() => page.locator('#search-message').textContent()).toMatch(/^No match: /)
  })

  test('erase one identifier: the rows that hold it and the splits first, then the typed value', async () => {
    const {
      primaryContactId: fay,
      secondaryContactIds: [gus = 0],
    } = guard.eraseValue
    await page.locator('#erase-identifier-kind').selectOption('phoneNumber')
    await page.locator('#erase-identifier-value').fill('750750')
    await page
      .locator('#guard form')
      .nth(2)
      .getByRole('button', { name: 'Preview erasure' })
      .click()
    const preview = page.locator('#erase-identifier-preview')
    await preview.waitFor()
    expect(await preview.textContent()).toContain(`removed from contacts ${ids([fay, gus])}`)
    expect(await preview.textContent()).toContain(
      `Customer #${fay} splits into 2 customers: #${fay}, #${gus}`,
    )
    expect(await page.getByRole('button', { name: 'Erase value' }).isDisabled()).toBe(true)
    await page.getByLabel('To confirm, type 750750').fill('750750')
    await page.getByRole('button', { name: 'Erase value' }).click()
    await page.locator('#customers-now li').nth(1).waitFor()
    expect(await page.locator('#erase-identifier-result [role=status]').textContent()).toBe(
      'Erased phone number 750750 from 2 contacts.',
    )
    expect((await callAdmin('GET', `/api/customers/${gus}`)).body).toMatchObject({
      contact: { primaryContactId: gus, phoneNumbers: [] },
    })
  })
})

// What the real service cannot be made to answer on demand: a quarantined value, a busy database.
// These answer the guard's calls in the browser (Playwright's page.route), by its documented shape.
describe('corrections, with answers given in the browser', () => {
  const json = (status: number, body: unknown) => ({
    status,
    contentType: 'application/json',
    body: JSON.stringify(body),
  })

  beforeEach(async () => {
    await signIn()
    await page.locator('#search-value').waitFor()
  })

  test('a quarantined value is listed with its reason in words', async () => {
    const quarantined = {
      kind: 'email',
      value: 'spam@example.com',
      reason: 'auto',
      createdAt: '2026-01-01T00:00:00.000Z',
    }
    await page.route('**/api/blocked-identifiers', (route) =>
      route.fulfill(json(200, { blocked: [quarantined] })),
    )
    await page.getByRole('button', { name: 'Show blocked values' }).click()
    const row = page.locator('#blocked-list tbody tr')
    await row.waitFor()
    expect(await row.textContent()).toContain('quarantined automatically')
  })

  test('a service out of reach, or a proxy answering HTML, is said in words', async () => {
    await page.route('**/api/customers?**', (route) => route.abort('connectionrefused'))
    await searchFor('Email', 'doc@hillvalley.edu')
    await expect
      .poll(() => page.locator('#search-message').textContent())
      .toBe('Search failed: The service could not be reached. Check your connection and try again.')
    await page.unroute('**/api/customers?**')
    await page.route('**/api/customers?**', (route) =>
      route.fulfill({ status: 502, contentType: 'text/html', body: '<h1>Bad gateway</h1>' }),
    )
    await page.getByRole('button', { name: 'Search' }).click()
    await expect
      .poll(() => page.locator('#search-message').textContent())
      .toBe('Search failed: The service answered 502 without saying why. Try again in a moment.')
  })

  test('a failing guard endpoint is said in words, never a blank', async () => {
    await page.route('**/api/blocked-identifiers', (route) =>
      route.fulfill(
        json(503, { error: { code: 'busy', message: 'The database is busy; retry shortly' } }),
      ),
    )
    await page.getByRole('button', { name: 'Show blocked values' }).click()
    await expect
      .poll(() => page.locator('#blocked-list').textContent())
      .toBe(
        'Could not read blocked values: The database is busy; retry shortly The service is busy; try again in a moment.',
      )
  })
})
