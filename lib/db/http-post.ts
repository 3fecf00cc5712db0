/**
 * The POST Neon's HTTP driver sends each statement or batch with, over `node:http`/`node:https`
 * instead of the global `fetch` (docs/decisions/013-cold-start.md). A cold function's first
 * `fetch()` costs 20-25 ms of CPU here to set up undici; this costs about 10. The driver reads only
 * `ok`, `status`, `json()` and `text()` of what comes back.
 */
import http from 'node:http'
import https from 'node:https'

/** What the driver hands its fetch function. */
export type PostInit = {
  body: string
  headers: Record<string, string>
  signal?: AbortSignal
}

/** The part of a Response the driver reads. */
export type PostResponse = {
  ok: boolean
  status: number
  text: () => Promise<string>
  json: () => Promise<unknown>
}

// One pool of kept-alive connections per protocol, as undici keeps them: a warm function's next
// statement skips the TCP and TLS handshakes.
const agents = {
  'http:': new http.Agent({ keepAlive: true }),
  'https:': new https.Agent({ keepAlive: true }),
}

/**
 * POSTs `init.body` to `url`. Rejects with the signal's reason when it aborts (as `fetch` does), and
 * with the socket's error when the connection fails.
 */
export function postOverNodeHttp(url: string, init: PostInit): Promise<PostResponse> {
  return send(new URL(url), init, true)
}

function send(url: URL, init: PostInit, mayResend: boolean): Promise<PostResponse> {
  return new Promise((resolve, reject) => {
    const { signal } = init
    if (signal?.aborted) return reject(signal.reason)
    const isHttps = url.protocol === 'https:'
    const request = (isHttps ? https : http).request(
      url,
      {
        method: 'POST',
        headers: { ...init.headers, 'content-length': Buffer.byteLength(init.body) },
        agent: isHttps ? agents['https:'] : agents['http:'],
      },
      (response) => {
        const chunks: Buffer[] = []
        response.on('data', (chunk: Buffer) => chunks.push(chunk))
        response.on('error', fail)
        response.on('end', () => {
          signal?.removeEventListener('abort', abort)
          const text = Buffer.concat(chunks).toString('utf8')
          const status = response.statusCode ?? 0
          resolve({
            ok: status >= 200 && status < 300,
            status,
            text: async () => text,
            json: async () => JSON.parse(text) as unknown,
          })
        })
      },
    )
    function abort() {
      request.destroy()
      reject(signal?.reason)
    }
    function fail(error: Error & { code?: string }) {
      signal?.removeEventListener('abort', abort)
      // A kept-alive connection the server closed while it sat idle fails the next request at
      // once, before the server read any of it: that request goes once more, on a new connection.
      if (mayResend && !signal?.aborted && request.reusedSocket && error.code === 'ECONNRESET') {
        resolve(send(url, init, false))
      } else {
        reject(error)
      }
    }
    signal?.addEventListener('abort', abort, { once: true })
    request.on('error', fail)
    request.end(init.body)
  })
}
