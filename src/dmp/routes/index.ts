// Every route plugin of the DMP service, registered by buildDmpApp in this order. To add a
// group of routes (patients, documents, traces, portal…): write `routes/<group>.ts` exporting
// `async function <group>Routes(app: FastifyInstance)`, use the preHandlers of ../auth
// (requirePractitioner to read, requireSession to send), throw DmpError for refusals, declare
// JSON schemas (body, params, querystring, response with problemResponses(...)) so that
// validation and /openapi.json follow, and append the plugin here.
import type { FastifyInstance } from 'fastify';
import { messagingRoutes } from '../messaging/index.js';
import { portalRoutes } from '../portal/index.js';
import { authRoutes } from './auth.js';
import { documentRoutes } from './documents.js';
import { patientRoutes } from './patients.js';

export const DMP_ROUTE_PLUGINS: readonly ((app: FastifyInstance) => Promise<void>)[] = [authRoutes, portalRoutes, patientRoutes, documentRoutes, messagingRoutes];

export async function registerDmpRoutes(app: FastifyInstance): Promise<void> {
  for (const plugin of DMP_ROUTE_PLUGINS) await app.register(plugin);
}
