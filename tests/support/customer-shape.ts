// A table's customers without their ids: what two tables must share when the same writes got
// their ids in another order (a backfill takes its ids before identify calls made meanwhile).

/** The columns `toCustomerShape` reads; the query must select at least these. */
export const CONTACT_ROWS = `select "id", "email", "phoneNumber", "emailKey", "phoneKey", "keyVersion",
  "linkedId", "linkPrecedence", "createdAt", "deletedAt" from "Contact" order by "id"`

type Row = Record<string, unknown> & { id: number; linkedId: number | null }

/**
 * Returns each row's values, times and role, with the row it links to named by its values and
 * time instead of its id, sorted: equal for two tables holding the same customers.
 */
export function toCustomerShape(rows: readonly Row[]): string[] {
  const byId = new Map(rows.map((row) => [row.id, row]))
  const withoutIds = (row: Row) => {
    const { id: _id, linkedId: _linkedId, ...rest } = row
    return JSON.stringify(rest)
  }
  return rows
    .map((row) => {
      const linked = row.linkedId === null ? undefined : byId.get(row.linkedId)
      return `${withoutIds(row)} -> ${linked === undefined ? String(row.linkedId) : withoutIds(linked)}`
    })
    .sort()
}
