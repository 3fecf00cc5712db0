// Vercel function for DELETE /api/identifiers (see lib/http/routes.ts).
import { composeFunction } from '../lib/compose.js'

export default composeFunction('identifiers')
