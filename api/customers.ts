// Vercel function for GET /api/customers and /api/customers/{contactId} (see lib/http/routes.ts).
import { composeFunction } from '../lib/compose.js'

export default composeFunction('customers')
