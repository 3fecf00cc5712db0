/**
 * Limits of the local Node.js server (`npm start`, scripts/serve.ts), and its answers to what Node
 * refuses before any handler runs. On Vercel the platform's own front end does this.
 */
import { type Server, type ServerOptions, STATUS_CODES } from 'node:http'
import type { Duplex } from 'node:stream'
import type { Logger } from '../platform/log.js'

/** What the operator may tune (see `.env.example`). */
export type ServerLimits = { requestTimeoutMs: number; maxConnections: number }

// Requests carry a few short headers (content type, a key, a request id); 8 KiB, as most proxies.
const MAX_HEADER_BYTES = 8 * 1024
// Node's default: an idle keep-alive connection is closed after 5 s.
const KEEP_ALIVE_TIMEOUT_MS = 5_000
// How often Node looks for requests past their timeout (its default, 30 s, would let a 10 s
// timeout run for up to 40 s).
const TIMEOUT_CHECK_INTERVAL_MS = 1_000

/**
 * Returns `http.createServer`'s options for `limits`. A request (headers and body) must arrive
 * within the request timeout: Node's defaults let a half-sent body hold a socket for 300 s and
 * idle headers for 60 s.
 */
export function toServerOptions(limits: ServerLimits): ServerOptions {
  return {
    requestTimeout: limits.requestTimeoutMs,
    headersTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    connectionsCheckingInterval: Math.min(TIMEOUT_CHECK_INTERVAL_MS, limits.requestTimeoutMs),
    maxHeaderSize: MAX_HEADER_BYTES,
  }
}

/**
 * Caps the open connections (Node closes any past the cap at once) and answers Node's own
 * refusals (malformed, oversized or too slow requests) in the service's error shape, logging each
 * by status and Node's code: Node's answers have empty bodies.
 */
export function guardServer(server: Server, limits: ServerLimits, logger: Logger): void {
  server.maxConnections = limits.maxConnections
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    const refusal = toRefusal(error.code)
    // Nobody to answer (the client went away), or a handler's answer has already begun.
    const inFlight = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage
    if (refusal === null || !socket.writable || inFlight?.headersSent === true) {
      socket.destroy()
      return
    }
    logger.info({ msg: 'http client error', status: refusal.status, code: error.code })
    socket.end(toRawResponse(refusal), () => socket.destroy())
  })
}

type Refusal = { status: number; code: string; message: string }

function toRefusal(nodeCode: string | undefined): Refusal | null {
  switch (nodeCode) {
    case 'ECONNRESET':
      return null
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return {
        status: 408,
        code: 'request_timeout',
        message: 'The request did not arrive in time',
      }
    case 'HPE_HEADER_OVERFLOW':
      return {
        status: 431,
        code: 'headers_too_large',
        message: `The request headers must be at most ${MAX_HEADER_BYTES} bytes`,
      }
    default:
      return { status: 400, code: 'bad_request', message: 'The request is not valid HTTP/1.1' }
  }
}

// The whole answer, written straight to the socket: there is no request or response object yet.
function toRawResponse({ status, code, message }: Refusal): string {
  const body = JSON.stringify({ error: { code, message } })
  return [
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}`,
    'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Connection: close',
    '',
    body,
  ].join('\r\n')
}
