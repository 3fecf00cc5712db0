/** A request's path, read from its URL text without parsing the whole URL. */

/**
 * Returns the path of `url`, an absolute http(s) URL as `Request.url` serializes it (so its path
 * is already normalized and percent-encoded): what `new URL(url).pathname` returns, without
 * building a URL object on every request.
 */
export function toPathname(url: string): string {
  const authority = url.indexOf('//')
  const start = url.indexOf('/', authority === -1 ? 0 : authority + 2)
  if (start === -1) return '/'
  const query = url.indexOf('?', start)
  const fragment = url.indexOf('#', start)
  const end = Math.min(query === -1 ? url.length : query, fragment === -1 ? url.length : fragment)
  return url.slice(start, end)
}
