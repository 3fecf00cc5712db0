/**
 * COPY in and out of PostgreSQL in its text format, streamed both ways with backpressure, so the
 * backfill moves a million rows in one statement without holding them (pg-copy-streams).
 */
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { StringDecoder } from 'node:string_decoder'
import type pg from 'pg'
import { from as copyFrom, to as copyTo } from 'pg-copy-streams'

/** A field as COPY's text format carries it; null is `\N`. */
export type CopyField = string | number | boolean | null

const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' }
const UNESCAPES: Record<string, string> = { '\\': '\\', t: '\t', n: '\n', r: '\r' }

// Backslash, tab and line breaks escaped; \N is null.
const field = (value: CopyField): string =>
  value === null ? '\\N' : String(value).replace(/[\\\t\n\r]/g, (c) => ESCAPES[c] as string)

/** Streams `rows` into `copy` (a `COPY ... from stdin` statement), async sources included. */
export async function copyRows(
  client: pg.ClientBase,
  copy: string,
  rows: Iterable<CopyField[]> | AsyncIterable<CopyField[]>,
): Promise<void> {
  async function* chunks() {
    let chunk = ''
    for await (const row of rows) {
      chunk += `${row.map(field).join('\t')}\n`
      if (chunk.length > 1 << 16) {
        yield chunk
        chunk = ''
      }
    }
    if (chunk !== '') yield chunk
  }
  await pipeline(Readable.from(chunks()), client.query(copyFrom(copy)))
}

/**
 * Runs `copy` (a `COPY (...) to stdout` statement) and calls `visit` with each row's fields, in
 * the order the server sends them; null fields are null.
 */
export async function forEachCopiedRow(
  client: pg.ClientBase,
  copy: string,
  visit: (fields: (string | null)[]) => void,
): Promise<void> {
  const stream = client.query(copyTo(copy))
  // A chunk may end inside a character: the decoder keeps its first bytes for the next one.
  const decoder = new StringDecoder('utf8')
  let rest = ''
  const parse = (line: string) =>
    visit(
      line
        .split('\t')
        .map((text) =>
          text === '\\N'
            ? null
            : text.includes('\\')
              ? text.replace(/\\(.)/g, (_, c: string) => UNESCAPES[c] ?? c)
              : text,
        ),
    )
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    const text = rest + decoder.write(chunk)
    const lines = text.split('\n')
    rest = lines.pop() ?? ''
    for (const line of lines) parse(line)
  }
  rest += decoder.end()
  if (rest !== '') parse(rest)
}
