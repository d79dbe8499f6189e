// The service's two web pages (dmp-service.md "API shape"): the practitioner page (/praticien:
// agent pairing, Vitale card, CPS login through the agent's PIN page, the patient's DMP, signed
// documents, break-glass) and the patient portal (/portail), with a home page (/) linking both.
// Their scripts and style sheet are same-origin files under /pages/, the client libraries'
// browser bundles too; every answer carries the pages' CSP (no inline script, frame-ancestors
// 'none'). The pages call the API of this same service: nothing is loaded from elsewhere.
import type { FastifyInstance, FastifyReply } from 'fastify';
import { DmpError } from '../errors.js';
import { BUNDLES, BundleUnavailableError, PageAssets, type BundleName } from './assets.js';
import { PAGE_CSP, PAGE_OPENER_POLICY } from './csp.js';
import { homePage, PAGE_PATHS, portalPage, practitionerPage } from './templates.js';

export { PAGE_CSP } from './csp.js';
export { PAGE_PATHS } from './templates.js';

const HIDDEN = { schema: { hide: true } } as const;

function html(reply: FastifyReply, body: string): FastifyReply {
  return reply.type('text/html; charset=utf-8').header('Content-Security-Policy', PAGE_CSP).send(body);
}

export async function pageRoutes(app: FastifyInstance, options: { assets?: PageAssets } = {}): Promise<void> {
  const assets = options.assets ?? new PageAssets();
  const baseUrl = (): string => app.dmp.publicUrl();

  // runs after the service-wide header hook (registered at the root): pages keep their popups
  app.addHook('onSend', async (_request, reply, payload) => {
    reply.header('Cross-Origin-Opener-Policy', PAGE_OPENER_POLICY);
    return payload;
  });

  app.get(PAGE_PATHS.home, HIDDEN, async (_request, reply) => html(reply, homePage(baseUrl())));
  app.get(PAGE_PATHS.practitioner, HIDDEN, async (_request, reply) => html(reply, practitionerPage(baseUrl())));
  app.get(PAGE_PATHS.portal, HIDDEN, async (_request, reply) => html(reply, portalPage(baseUrl())));
  // browsers ask for it on every page: no icon, and no 404 in their console
  app.get('/favicon.ico', HIDDEN, async (_request, reply) => reply.code(204).header('Cache-Control', 'max-age=86400').send());

  app.get<{ Params: { name: string } }>('/pages/:name', HIDDEN, async (request, reply) => {
    const name = request.params.name;
    if ((BUNDLES as readonly string[]).includes(name)) {
      try {
        const bundle = await assets.bundle(name as BundleName);
        return reply.type(bundle.type).header('Cache-Control', 'no-cache').header('Content-Security-Policy', PAGE_CSP).send(bundle.body);
      } catch (error) {
        if (error instanceof BundleUnavailableError) throw new DmpError('SERVICE_UNAVAILABLE', error.message);
        throw error;
      }
    }
    const asset = await assets.ownAsset(name);
    if (!asset) throw new DmpError('NOT_FOUND', 'fichier inconnu');
    return reply.type(asset.type).header('Cache-Control', 'no-cache').header('Content-Security-Policy', PAGE_CSP).send(asset.body);
  });
}
