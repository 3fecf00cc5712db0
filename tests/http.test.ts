// Reading a JSON request body (lib/http/body.ts): what is read, and what is refused before or while
// reading. Pure: Web Requests, no server and no database.
import { describe, expect, test } from 'vitest'
import { readJsonBody } from '../lib/http/body.js'

const LIMIT = 16 * 1024
const JSON_TYPE = { 'content-type': 'application/json' }

// A body sent in chunks with no declared length, as a chunked HTTP/1.1 upload arrives.
function streamOf(chunks: string[], onCancel: () => void = () => {}): ReadableStream<Uint8Array> {
  const queue = chunks.map((chunk) => new TextEncoder().encode(chunk))
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      const next = queue.shift()
      if (next === undefined) controller.close()
      else controller.enqueue(next)
    },
    cancel: onCancel,
  })
}

const post = (headers: Record<string, string>, body: BodyInit) =>
  new Request('http://store.test/identify', {
    method: 'POST',
    headers,
    body,
    duplex: 'half',
  } as RequestInit)

describe('readJsonBody', () => {
  test('reads a body of declared length', async () => {
    const body = '{"email":"a@x.io"}'
    const result = await readJsonBody(
      post({ ...JSON_TYPE, 'content-length': String(body.length) }, body),
    )
    expect(result).toEqual({ ok: true, body: { email: 'a@x.io' } })
  })

  test('reads a streamed body with no declared length', async () => {
    const result = await readJsonBody(post(JSON_TYPE, streamOf(['{"email":', '"a@x.io"}'])))
    expect(result).toEqual({ ok: true, body: { email: 'a@x.io' } })
  })

  test('refuses a declared length over the limit without reading the body', async () => {
    const unreadable = new ReadableStream<Uint8Array>({
      pull() {
        throw new Error('the body was read')
      },
    })
    const result = await readJsonBody(
      post({ ...JSON_TYPE, 'content-length': String(LIMIT + 1) }, unreadable),
    )
    expect(result).toMatchObject({ ok: false, error: { status: 413, code: 'payload_too_large' } })
  })

  test('refuses a body longer than its declared length when that passes the limit', async () => {
    const result = await readJsonBody(
      post({ ...JSON_TYPE, 'content-length': '2' }, `"${'x'.repeat(LIMIT)}"`),
    )
    expect(result).toMatchObject({ ok: false, error: { status: 413, code: 'payload_too_large' } })
  })

  test('stops reading a streamed body once it passes the limit', async () => {
    let cancelled = false
    const chunks = Array.from({ length: 64 }, () => 'x'.repeat(1024))
    const result = await readJsonBody(
      post(
        JSON_TYPE,
        streamOf(chunks, () => {
          cancelled = true
        }),
      ),
    )
    expect(result).toMatchObject({ ok: false, error: { status: 413, code: 'payload_too_large' } })
    expect(cancelled).toBe(true)
  })

  test('ignores a declared length that is not a number, and streams the body up to the limit', async () => {
    let cancelled = false
    const chunks = Array.from({ length: 64 }, () => 'x'.repeat(1024))
    const result = await readJsonBody(
      post(
        { ...JSON_TYPE, 'content-length': '1e3' },
        streamOf(chunks, () => {
          cancelled = true
        }),
      ),
    )
    expect(result).toMatchObject({ ok: false, error: { status: 413, code: 'payload_too_large' } })
    expect(cancelled).toBe(true)
  })

  test.each<[string, Record<string, string>, BodyInit, number, string]>([
    [
      'a form body',
      { 'content-type': 'application/x-www-form-urlencoded' },
      'a=1',
      415,
      'unsupported_media_type',
    ],
    ['no content type', {}, '{}', 415, 'unsupported_media_type'],
    ['malformed JSON', JSON_TYPE, '{"email":', 400, 'invalid_json'],
    ['invalid UTF-8', JSON_TYPE, new Uint8Array([0x22, 0xff, 0x22]), 400, 'invalid_json'],
  ])('refuses %s', async (_, headers, body, status, code) => {
    const result = await readJsonBody(post(headers, body))
    expect(result).toMatchObject({ ok: false, error: { status, code } })
  })

  test('accepts a structured JSON media type such as application/merge-patch+json', async () => {
    const result = await readJsonBody(
      post(
        { 'content-type': 'application/merge-patch+json; charset=utf-8' },
        '{"phoneNumber":"1"}',
      ),
    )
    expect(result).toEqual({ ok: true, body: { phoneNumber: '1' } })
  })
})
