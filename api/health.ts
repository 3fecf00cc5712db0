// Vercel function for GET /api/health.
import { composeFunction } from '../lib/compose.js'

export default composeFunction('health')
