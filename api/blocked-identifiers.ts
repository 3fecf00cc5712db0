// Vercel function for GET, POST and DELETE /api/blocked-identifiers (see lib/http/routes.ts).
import { composeFunction } from '../lib/compose.js'

export default composeFunction('blocked-identifiers')
