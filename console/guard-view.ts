// Corrections: block a value (dry run first, then confirm), unblock, the list of blocked and
// quarantined values (./block-view.ts), and erasure of a customer or of one identifier behind a
// typed confirmation (./erase-view.ts).
import { blockedListSection, blockSection } from './block-view.js'
import { byId, fill } from './dom.js'
import { eraseCustomerSection, eraseIdentifierSection } from './erase-view.js'
import type { GuardDeps } from './guard-parts.js'

let deps: GuardDeps = { reopen: async () => {}, refresh: async () => {} }

/** Builds the corrections section over the main view's `reopen` and `refresh`. */
export function startGuard(given: GuardDeps): void {
  deps = given
  resetGuard()
}

/** Empties the section, as on sign-out. */
export function resetGuard(): void {
  fill(
    byId('guard-body'),
    blockSection(deps),
    blockedListSection(),
    eraseCustomerSection(deps),
    eraseIdentifierSection(deps),
  )
}
