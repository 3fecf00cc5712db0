// Vercel function for POST /identify (and /identity, see vercel.json and lib/http/routes.ts).
import { composeFunction } from '../lib/compose.js'

export default composeFunction('identify')
