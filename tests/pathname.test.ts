// toPathname must say exactly what `new URL(url).pathname` says for every URL a Request carries.
import { expect, test } from 'vitest'
import { toPathname } from '../lib/http/pathname.js'

test.each([
  'http://127.0.0.1:4000/identify',
  'https://identity.test/api/customers/23?x=1',
  'https://identity.test/',
  'https://identity.test/api/events?after=1.2&limit=3#top',
  'https://identity.test/a%20b/c?d=/e',
  'http://identity.test:8080/api/health/',
  'https://identity.test/api/x/../identify',
  'https://identity.test/api/explain?from=4&to=3?x',
])('the path of %s is what URL parsing gives', (text) => {
  const url = new Request(text).url
  expect(toPathname(url)).toBe(new URL(url).pathname)
})
