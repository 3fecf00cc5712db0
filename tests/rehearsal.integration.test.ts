// The build's rehearsal of identify (lib/identify/rehearsal.ts) runs in the code-cache process
// against the deployment's real database handle: it must build its statements without sending
// any, and leave every row and the id sequence exactly as they were.
import { describe, expect, test } from 'vitest'
import { composeService } from '../lib/compose.js'
import { toKeyVersion } from '../lib/guard/match-keys.js'
import { rehearseIdentify } from '../lib/identify/rehearsal.js'
import { ALL_DRIVERS, useTestDatabase } from './support/database.js'

const CONFIGURED = { defaultRegion: 'GB' as const, emailProviderAliases: ['gmail' as const] }

describe.each(ALL_DRIVERS)('%s: the build rehearses identify', (driver) => {
  const suite = useTestDatabase(driver)

  const snapshot = async () => ({
    contacts: await suite.database.query('select * from "Contact" order by "id"'),
    events: await suite.database.query('select * from "ContactEvent" order by "id"'),
    sequence: await suite.database.query(`select last_value, is_called from "Contact_id_seq"`),
  })

  test('it builds the write statements of every plan, sends none and changes nothing', async () => {
    const answered = await suite.client.identify({
      email: 'rehearsal@example.com',
      phoneNumber: '+12025550143',
    })
    expect(answered.status).toBe(200)
    const before = await snapshot()
    suite.database.wire?.reset()

    // A new email, a merge and a new customer: four statements at least each.
    const built = rehearseIdentify(suite.database.db, CONFIGURED, toKeyVersion(CONFIGURED))
    expect(built).toBeGreaterThanOrEqual(12)
    const service = composeService({
      database: async () => suite.database,
      identifyAuth: { kind: 'open' },
      adminAuth: { kind: 'open' },
    })
    await service.rehearse('identify')
    await service.rehearse('health')
    // A statement awaited by mistake would run later, once a pooled connection opened: long
    // before this.
    await new Promise((resolve) => setTimeout(resolve, 500))

    expect(suite.database.wire?.roundTrips() ?? 0).toBe(0)
    expect(await snapshot()).toEqual(before)
  })
})
