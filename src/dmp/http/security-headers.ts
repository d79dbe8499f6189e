// Headers on every answer: no caching of API answers (patient data), no MIME sniffing, no
// framing, no referrer; a restrictive CSP unless a route set its own (the web pages, document
// downloads with `sandbox`); HSTS when served over TLS.
import type { FastifyInstance } from 'fastify';

export const API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

export function registerSecurityHeaders(app: FastifyInstance, options: { tls: boolean }): void {
  app.addHook('onSend', async (_request, reply, payload) => {
    if (!reply.hasHeader('cache-control')) reply.header('Cache-Control', 'no-store');
    if (!reply.hasHeader('content-security-policy')) reply.header('Content-Security-Policy', API_CSP);
    reply.header('X-Content-Type-Options', 'nosniff');
    reply.header('X-Frame-Options', 'DENY');
    reply.header('Referrer-Policy', 'no-referrer');
    reply.header('Cross-Origin-Opener-Policy', 'same-origin');
    if (options.tls) reply.header('Strict-Transport-Security', 'max-age=31536000');
    return payload;
  });
}
