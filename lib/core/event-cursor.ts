/**
 * The events feed's cursor: the position after an event, in the feed's order (its transaction's
 * id, then its own). Opaque to clients; pure.
 */

/** A position in the feed: after the event `id` of transaction `txid`. Both are decimal text. */
export type EventCursor = { txid: string; id: string }

/** The position before every event. */
export const FEED_START: EventCursor = { txid: '0', id: '0' }

const CURSOR = /^(\d{1,20})\.(\d{1,19})$/

/** Writes `cursor` as text, e.g. `812.31`. */
export const toCursorText = ({ txid, id }: EventCursor): string => `${txid}.${id}`

/** Reads a cursor written by `toCursorText`, or null when `text` is not one. */
export function parseCursor(text: string): EventCursor | null {
  const match = CURSOR.exec(text)
  if (match === null) return null
  const [, txid = '', id = ''] = match
  // Unsigned 64-bit for a transaction id, signed for a bigint id: past either, no event is there.
  if (BigInt(txid) > 18_446_744_073_709_551_615n || BigInt(id) > 9_223_372_036_854_775_807n) {
    return null
  }
  return { txid, id }
}
