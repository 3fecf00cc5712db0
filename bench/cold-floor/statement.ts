// The cluster read the floor functions send: identify's own statement (lib/identify/cluster-read.ts),
// rendered by the bench (bench/cold-start.ts, `toFloorRead`) and handed over in FLOOR_READ, so
// the server does exactly the work a real first request asks of it.

/** The read's text, and its parameters with the request's keys in place. */
export type FloorStatement = {
  text: string
  values: (emailKey: unknown, phoneKey: unknown) => unknown[]
}

/** What FLOOR_READ holds: the text, and each parameter, a key's name or a value. */
export type FloorRead = {
  text: string
  params: ({ key: 'emailKey' | 'phoneKey' } | { value: unknown })[]
}

/** Reads FLOOR_READ. */
export function readFloorStatement(): FloorStatement {
  const { text, params } = JSON.parse(process.env.FLOOR_READ ?? '') as FloorRead
  return {
    text,
    values: (emailKey, phoneKey) =>
      params.map((param) =>
        'key' in param ? (param.key === 'emailKey' ? emailKey : phoneKey) : param.value,
      ),
  }
}
