// Deterministic builders for rows and times: fixed ids and dates, no randomness.
import type { ContactRow } from '../../lib/core/contact.js'

/** The instant `minutes` after a fixed epoch (2024-04-01T00:00Z), so ages read as small numbers. */
export const at = (minutes: number) => new Date(Date.UTC(2024, 3, 1) + minutes * 60_000)

/** A live primary row; override any field, and `linkedId` makes it a secondary. */
export function makeContact(fields: Partial<ContactRow> & { id: number }): ContactRow {
  const linkedId = fields.linkedId ?? null
  const email = fields.email ?? null
  const phoneNumber = fields.phoneNumber ?? null
  return {
    email,
    phoneNumber,
    emailKey: email,
    phoneKey: phoneNumber,
    linkPrecedence: linkedId === null ? 'primary' : 'secondary',
    createdAt: at(fields.id),
    ...fields,
    linkedId,
  }
}
