/** Reading a request's JSON body within a size limit. */
import { parseExactJson } from '../core/exact-json.js'
import type { ApiError } from './answer.js'

// The largest request body accepted, in bytes.
const MAX_BODY_BYTES = 16 * 1024
// Made once: a decode without `stream` keeps no state between calls.
const UTF8 = new TextDecoder('utf-8', { fatal: true })

const isJsonMediaType = (contentType: string | null) =>
  contentType !== null && /^application\/([\w.+-]+\+)?json\s*(;|$)/i.test(contentType)

/**
 * Reads a JSON request body of at most `MAX_BODY_BYTES`, or says why it cannot. A number a double
 * cannot hold exactly arrives as an `InexactJsonNumber` (lib/core/exact-json.ts), never rounded.
 */
export async function readJsonBody(
  request: Request,
): Promise<{ ok: true; body: unknown } | { ok: false; error: ApiError }> {
  if (!isJsonMediaType(request.headers.get('content-type'))) {
    return {
      ok: false,
      error: {
        status: 415,
        code: 'unsupported_media_type',
        message: 'Content-Type must be application/json',
      },
    }
  }
  const tooLarge: ApiError = {
    status: 413,
    code: 'payload_too_large',
    message: `The request body must be at most ${MAX_BODY_BYTES} bytes`,
  }
  // A length that is not a plain number (which Node's HTTP parser already refuses) is ignored,
  // and the body is streamed as if none were declared.
  const declared = request.headers.get('content-length')
  const declaredBytes = declared !== null && /^\d+$/.test(declared) ? Number(declared) : null
  if (declaredBytes !== null && declaredBytes > MAX_BODY_BYTES) {
    return { ok: false, error: tooLarge }
  }
  let bytes: Uint8Array | null
  try {
    // A declared length, already checked above, is framing the HTTP server enforces, so the body
    // is read in one call: on Node's adapter much cheaper than a stream read chunk by chunk.
    bytes =
      declaredBytes !== null
        ? new Uint8Array(await request.arrayBuffer())
        : await readAtMost(request, MAX_BODY_BYTES)
  } catch {
    // The client went away or sent a broken stream; nobody may be listening, but answer anyway.
    return {
      ok: false,
      error: { status: 400, code: 'invalid_body', message: 'The request body could not be read' },
    }
  }
  if (bytes === null || bytes.byteLength > MAX_BODY_BYTES) return { ok: false, error: tooLarge }
  try {
    return {
      ok: true,
      body: parseExactJson(UTF8.decode(bytes)),
    }
  } catch {
    return {
      ok: false,
      error: { status: 400, code: 'invalid_json', message: 'The request body is not valid JSON' },
    }
  }
}

// Stops reading as soon as the limit is passed, so a huge body costs no more than the limit.
async function readAtMost(request: Request, limit: number): Promise<Uint8Array | null> {
  if (request.body === null) return new Uint8Array()
  const chunks: Uint8Array[] = []
  let size = 0
  const reader = request.body.getReader()
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > limit) {
      await reader.cancel()
      return null
    }
    chunks.push(value)
  }
  return Buffer.concat(chunks)
}
