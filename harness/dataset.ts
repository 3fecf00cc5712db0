// The synthetic store: customers whose size (rows) follows a long tail, laid out deterministically
// from a seed so the workload knows every identifier that exists without asking the database.
import type pg from 'pg'
import type { Identifiers } from '../lib/core/contact.js'
import { DEFAULT_MATCH_KEYS, toKeyVersion } from '../lib/guard/match-keys.js'
import { seededRandom } from './random.js'

/** How customers are laid out: customer `c` owns rows `firstIds[c] .. firstIds[c] + sizes[c] - 1`. */
export type Layout = {
  sizes: Int32Array
  firstIds: Int32Array
  rows: number
}

// Pareto with α = 1.6: P(size ≥ s) = s^-1.6, so 67% of customers have 1 row, 89% at most 3, and
// one in ~20,000 reaches the cap. The cap keeps a single customer from dominating small scales.
const TAIL_EXPONENT = 1.6
const MAX_CUSTOMER_ROWS = 500

/** Returns a layout of exactly `rows` rows, the same for the same seed. */
export function layOutCustomers(rows: number, seed: number): Layout {
  const random = seededRandom(seed)
  const sizes: number[] = []
  for (let total = 0; total < rows; ) {
    const drawn = Math.floor((1 - random()) ** (-1 / TAIL_EXPONENT))
    const size = Math.min(drawn, MAX_CUSTOMER_ROWS, rows - total)
    sizes.push(size)
    total += size
  }
  return toLayout(sizes, 1)
}

/** Returns the layout of customers of the given sizes, numbered from row `firstId`. */
export function toLayout(sizes: readonly number[], firstId: number): Layout {
  const firstIds = new Int32Array(sizes.length)
  let next = firstId
  sizes.forEach((size, c) => {
    firstIds[c] = next
    next += size
  })
  return { sizes: Int32Array.from(sizes), firstIds, rows: next - firstId }
}

// Row j of a customer brings exactly one identifier its earlier rows lack: row 0 has (e0, p0), row 1
// (e1, p0), row 2 (e1, p1), row 3 (e2, p1)... which is how a real customer accretes rows.
const emailIndex = (row: number) => (row + 1) >> 1
const phoneIndex = (row: number) => row >> 1

/** The email of customer `customer`'s `n`-th email; customers are numbered across the whole store. */
export const toEmail = (customer: number, n: number) => `c${customer}.${n}@bench.test`
/** The phone number of customer `customer`'s `n`-th phone: fixed width, so numbers never collide. */
export const toPhoneNumber = (customer: number, n: number) =>
  `+1${String(customer).padStart(9, '0')}${String(n).padStart(3, '0')}`

/** The identifiers stored in row `row` (0-based) of customer `customer`. */
export function toRowIdentifiers(customer: number, row: number): Identifiers {
  return {
    email: toEmail(customer, emailIndex(row)),
    phoneNumber: toPhoneNumber(customer, phoneIndex(row)),
  }
}

const EPOCH = '2024-01-01T00:00:00Z'

/**
 * Inserts the customers of `layout`, numbered from `firstCustomer`, in one set-based statement: the
 * rows are generated inside Postgres, so a million rows cost one round trip. Customer c was first
 * seen c minutes after the epoch and its row j j seconds later, so every primary is its oldest row.
 */
export async function loadCustomers(
  client: pg.ClientBase,
  layout: Layout,
  firstCustomer: number,
): Promise<void> {
  const firstId = layout.firstIds[0] ?? 1
  await client.query(
    `insert into "Contact" ("id", "email", "phoneNumber", "emailKey", "phoneKey", "keyVersion",
       "linkedId", "linkPrecedence", "createdAt", "updatedAt")
     overriding system value
     select c.first_id + j, "email", "phone", "email", "phone", $5,
            case when j = 0 then null else c.first_id end,
            (case when j = 0 then 'primary' else 'secondary' end)::"LinkPrecedence",
            $3::timestamptz + c.customer * interval '1 minute' + j * interval '1 second',
            $3::timestamptz + c.customer * interval '1 minute' + j * interval '1 second'
     from (
       select $2::int + ord::int - 1 as customer, size,
              $1::int + (sum(size) over (order by ord) - size)::int as first_id
       from unnest($4::int[]) with ordinality as t(size, ord)
     ) c, generate_series(0, c.size - 1) as j,
     -- Their match keys are the values themselves (lib/guard/match-keys.ts), written here rather
     -- than by the legacy trigger, which a bulk load run as a replica skips.
     lateral (select 'c' || c.customer || '.' || ((j + 1) / 2) || '@bench.test' as "email",
                     '+1' || lpad(c.customer::text, 9, '0') || lpad((j / 2)::text, 3, '0') as "phone") v
     order by 1`,
    [
      firstId,
      firstCustomer,
      EPOCH,
      `{${layout.sizes.join(',')}}`,
      toKeyVersion(DEFAULT_MATCH_KEYS),
    ],
  )
  // Later inserts through the service must not collide with the ids given here.
  await client.query(
    `select setval(pg_get_serial_sequence('"Contact"', 'id'), (select max("id") from "Contact"))`,
  )
}
