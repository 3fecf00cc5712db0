/** The guard's endpoints in the API description (lib/http/openapi.ts). */
import * as v from 'valibot'
import { BLOCK_REASONS } from '../core/blocklist.js'
import { IDENTIFIER_KINDS } from '../core/contact.js'
import { ErrorBodySchema, type Operation } from '../http/openapi.js'
import { ContactIdSchema } from '../lookup/query.js'
import { DryRunQuerySchema } from './request.js'

const error = (description: string) => ({ description, schema: ErrorBodySchema })
const ids = v.array(v.number())
const timestamp = v.pipe(v.string(), v.isoTimestamp())

// The body naming one value, as documented: ./request.ts checks it with identify's own schemas.
const ValueBody = v.union([
  v.strictObject({ email: v.string() }),
  v.strictObject({ phoneNumber: v.union([v.string(), v.number()]) }),
])

const BlockedSchema = v.object({
  kind: v.picklist(IDENTIFIER_KINDS),
  value: v.string(),
  reason: v.pipe(
    v.picklist(BLOCK_REASONS),
    v.description('`store`: the store blocked it; `auto`: quarantined as shared'),
  ),
  createdAt: timestamp,
})

const SplitsSchema = v.pipe(
  v.array(v.object({ primaryContactId: v.number(), into: ids })),
  v.description('Customers that fall apart: the old primary, and the primaries of the parts'),
)

const dryRun = {
  query: DryRunQuerySchema,
}

/** The operations of ./handler.ts. */
export const GUARD_OPERATIONS: Operation[] = [
  {
    method: 'get',
    path: '/api/blocked-identifiers',
    summary: "The store's blocklist and quarantined values, newest first",
    description:
      'Built-in rules (phone numbers of zeros, placeholder words, no-reply mailboxes) are not listed: the README names them.',
    security: 'admin',
    responses: {
      200: { description: 'The entries', schema: v.object({ blocked: v.array(BlockedSchema) }) },
    },
  },
  {
    method: 'post',
    path: '/api/blocked-identifiers',
    summary: 'Block a value: it stays on its rows but never links anything again',
    description:
      'Every customer the value held together is split into the parts the remaining evidence joins, in one transaction. With `?dryRun=true`, answers the splits and changes nothing.',
    security: 'admin',
    ...dryRun,
    body: ValueBody,
    responses: {
      200: {
        description: 'Dry run: what the block would split',
        schema: v.object({ dryRun: v.boolean(), blocked: BlockedSchema, splits: SplitsSchema }),
      },
      201: {
        description: 'Blocked, and the customers split',
        schema: v.object({ dryRun: v.boolean(), blocked: BlockedSchema, splits: SplitsSchema }),
      },
      400: error('Not exactly one valid email or phone number'),
      409: error('Blocked already (`already_blocked`), or by a built-in rule (`built_in`)'),
    },
  },
  {
    method: 'delete',
    path: '/api/blocked-identifiers',
    summary: 'Unblock a value: the customers it links are joined again',
    security: 'admin',
    ...dryRun,
    body: ValueBody,
    responses: {
      200: {
        description: 'Unblocked (or, in a dry run, what would be joined)',
        schema: v.object({
          dryRun: v.boolean(),
          unblocked: v.object({ kind: v.picklist(IDENTIFIER_KINDS), value: v.string() }),
          merges: v.array(v.object({ primaryContactId: v.number(), absorbed: ids })),
        }),
      },
      400: error('Not exactly one valid email or phone number'),
      404: error('The value is not on the blocklist (`not_blocked`)'),
      409: error('Blocked by a built-in rule (`built_in`)'),
    },
  },
  {
    method: 'delete',
    path: '/api/identifiers',
    summary: 'Erase one value wherever it is held (GDPR Art. 17)',
    description:
      'Removed from every row (a row left with no identifier is deleted), from the evidence in the ledger, and from a quarantine; a keyed hash is kept so that re-keying or an import of old orders cannot bring it back. Customers it held together are split.',
    security: 'admin',
    ...dryRun,
    body: ValueBody,
    responses: {
      200: {
        description: 'Erased (or, in a dry run, what would be)',
        schema: v.object({
          dryRun: v.boolean(),
          erased: v.object({
            kind: v.picklist(IDENTIFIER_KINDS),
            value: v.string(),
            contactIds: ids,
            deletedContactIds: ids,
          }),
          splits: SplitsSchema,
        }),
      },
      400: error('Not exactly one valid email or phone number'),
      404: error('No contact holds the value (`not_found`)'),
    },
  },
  {
    method: 'delete',
    path: '/api/customers/{contactId}',
    summary: 'Erase a whole customer (GDPR Art. 17): every row, and every value only it held',
    security: 'admin',
    query: v.object({ contactId: ContactIdSchema, ...DryRunQuerySchema.entries }),
    pathParams: ['contactId'],
    responses: {
      200: {
        description: 'Erased (or, in a dry run, what would be)',
        schema: v.object({
          dryRun: v.boolean(),
          erased: v.object({
            contactIds: ids,
            deletedContactIds: ids,
            emails: v.array(v.string()),
            phoneNumbers: v.array(v.string()),
          }),
        }),
      },
      400: error('A malformed contact id'),
      404: error('No live contact has that id (`not_found`)'),
    },
  },
]
