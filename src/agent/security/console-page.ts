// The agent's console (`/console?k=<key>`): the pairing requests waiting for the user, with
// Approve/Deny forms, and the paired origins, with Revoke. Plain French HTML, no script, no
// external resource. Reachable only with the console key (else 404, as if it did not exist);
// a POST is accepted only with the key, a live CSRF token of a page the agent served, an `Origin`
// equal to the agent's own origin and, when the browser sends it, `Sec-Fetch-Site: same-origin`.
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Scope } from '../caller.js';
import { CsrfTokens } from './csrf.js';
import { ownOrigin } from './host-header.js';
import type { Secret } from './local-secrets.js';
import type { PairingStore } from './pairing-store.js';
import { SCOPE_LABEL_FR } from './scope-labels.js';

export const CONSOLE_PATH = '/console';
const MAX_FORM_BYTES = 8 * 1024;

const STYLE = [
  'body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;line-height:1.5;color:#111;background:#fff}',
  'table{border-collapse:collapse;width:100%;margin:1rem 0}',
  'th,td{border:1px solid #888;padding:.4rem .6rem;text-align:left;vertical-align:top}',
  '.code{font-family:monospace;font-size:1.4rem;letter-spacing:.15em}',
  'form{display:inline}',
  'button{font-size:1rem;padding:.3rem .8rem;margin:.1rem}',
  '.notice{border:2px solid #226;padding:.5rem 1rem}',
].join('');
const STYLE_HASH = createHash('sha256').update(STYLE, 'utf8').digest('base64');

export const CONSOLE_CSP = `default-src 'none'; style-src 'sha256-${STYLE_HASH}'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`;

const NOTICES: Record<string, string> = {
  approved: 'Demande approuvée : le site peut maintenant utiliser les droits indiqués.',
  denied: 'Demande refusée.',
  revoked: 'Appariement révoqué : le site a perdu tous ses droits.',
  unknown: "Cette demande n'existe plus (expirée, remplacée ou déjà traitée).",
};

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function securityHeaders(response: ServerResponse): void {
  response.setHeader('Content-Security-Policy', CONSOLE_CSP);
  response.setHeader('X-Frame-Options', 'DENY');
  response.setHeader('X-Content-Type-Options', 'nosniff');
  // same-origin, not no-referrer: with no-referrer Chromium posts the forms with `Origin: null`.
  response.setHeader('Referrer-Policy', 'same-origin');
  response.setHeader('Cache-Control', 'no-store');
  response.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
}

function plain(response: ServerResponse, status: number, text: string): void {
  securityHeaders(response);
  response.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' });
  response.end(`${text}\n`);
}

function scopesList(scopes: readonly Scope[]): string {
  return `<ul>${scopes.map((s) => `<li><code>${escapeHtml(s)}</code> : ${escapeHtml(SCOPE_LABEL_FR[s])}</li>`).join('')}</ul>`;
}

function frenchTime(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString('fr-FR');
}

export interface ConsolePageOptions {
  readonly key: Secret;
  readonly pairings: PairingStore;
  readonly csrf?: CsrfTokens;
}

export type ConsoleRefusal = 'BAD_KEY' | 'BAD_ORIGIN' | 'BAD_FETCH_SITE' | 'BAD_CONTENT_TYPE' | 'TOO_LARGE' | 'BAD_CSRF' | 'BAD_FORM';

export class ConsolePage {
  private readonly csrf: CsrfTokens;

  constructor(
    private readonly options: ConsolePageOptions,
    /** Told of every refused console request (for the log). */
    private readonly onRefused: (reason: ConsoleRefusal) => void = () => {},
  ) {
    this.csrf = options.csrf ?? new CsrfTokens();
  }

  /** Serves `/console` (the caller already checked Host; `host` is that header). */
  async handle(request: IncomingMessage, response: ServerResponse, url: URL, host: string): Promise<void> {
    const key = url.searchParams.get('k');
    if (url.pathname !== CONSOLE_PATH || key === null || !this.options.key.matches(key)) {
      this.onRefused('BAD_KEY');
      return plain(response, 404, 'Introuvable.');
    }
    if (request.method === 'GET' || request.method === 'HEAD') return this.page(response, key, url.searchParams.get('m'));
    if (request.method === 'POST') return this.post(request, response, key, host);
    response.setHeader('Allow', 'GET, HEAD, POST');
    return plain(response, 405, 'Méthode non autorisée.');
  }

  private refuse(response: ServerResponse, reason: ConsoleRefusal, status = 403): void {
    this.onRefused(reason);
    plain(response, status, 'Requête refusée : elle ne vient pas de la console de cet agent.');
  }

  private async post(request: IncomingMessage, response: ServerResponse, key: string, host: string): Promise<void> {
    if (request.headers.origin !== ownOrigin(host)) return this.refuse(response, 'BAD_ORIGIN');
    const fetchSite = request.headers['sec-fetch-site'];
    if (fetchSite !== undefined && fetchSite !== 'same-origin') return this.refuse(response, 'BAD_FETCH_SITE');
    const type = request.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
    if (type !== 'application/x-www-form-urlencoded') return this.refuse(response, 'BAD_CONTENT_TYPE', 415);
    const body = await readBody(request, MAX_FORM_BYTES);
    if (body === undefined) return this.refuse(response, 'TOO_LARGE', 413);
    const form = new URLSearchParams(body);
    const csrf = form.get('csrf');
    if (csrf === null || !this.csrf.consume(csrf)) return this.refuse(response, 'BAD_CSRF');
    const action = form.get('action');
    const code = form.get('code') ?? '';
    const origin = form.get('origin') ?? '';
    let notice: string;
    if (action === 'approve' && /^\d{6}$/.test(code)) notice = this.options.pairings.approve(code, 'console') ? 'approved' : 'unknown';
    else if (action === 'deny' && /^\d{6}$/.test(code)) notice = this.options.pairings.deny(code, 'console') ? 'denied' : 'unknown';
    else if (action === 'revoke' && origin !== '') notice = this.options.pairings.revoke(origin, 'console') ? 'revoked' : 'unknown';
    else return this.refuse(response, 'BAD_FORM', 400);
    securityHeaders(response);
    response.writeHead(303, { Location: `${CONSOLE_PATH}?k=${encodeURIComponent(key)}&m=${notice}` });
    response.end();
  }

  private page(response: ServerResponse, key: string, noticeKey: string | null): void {
    const action = `${CONSOLE_PATH}?k=${encodeURIComponent(key)}`;
    const hidden = (name: string, value: string): string => `<input type="hidden" name="${name}" value="${escapeHtml(value)}">`;
    const form = (fields: string, label: string, aria: string): string =>
      `<form method="post" action="${escapeHtml(action)}">${hidden('csrf', this.csrf.issue())}${fields}<button type="submit" aria-label="${escapeHtml(aria)}">${label}</button></form>`;

    const pending = this.options.pairings.pending();
    const paired = this.options.pairings.paired();
    const pendingRows = pending
      .map(
        (p) =>
          `<tr><td class="code">${escapeHtml(p.code)}</td><td>${escapeHtml(p.origin)}</td><td>${scopesList(p.scopes)}</td><td>${escapeHtml(frenchTime(p.expiresAt))}</td><td>` +
          form(hidden('action', 'approve') + hidden('code', p.code), 'Approuver', `Approuver ${p.origin} (code ${p.code})`) +
          form(hidden('action', 'deny') + hidden('code', p.code), 'Refuser', `Refuser ${p.origin} (code ${p.code})`) +
          `</td></tr>`,
      )
      .join('');
    const pairedRows = paired
      .map(
        (p) =>
          `<tr><td>${escapeHtml(p.origin)}</td><td>${scopesList(p.scopes)}</td><td>${escapeHtml(frenchTime(p.pairedAt))}</td><td>` +
          form(hidden('action', 'revoke') + hidden('origin', p.origin), 'Révoquer', `Révoquer ${p.origin}`) +
          `</td></tr>`,
      )
      .join('');
    const notice = noticeKey !== null ? NOTICES[noticeKey] : undefined;
    const html = `<!doctype html>
<html lang="fr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>Console de l'agent cardbridge</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<h1>Console de l'agent cardbridge</h1>
${notice ? `<p class="notice" role="status">${escapeHtml(notice)}</p>` : ''}
<h2>Demandes d'appariement en attente</h2>
<p>Un site web demande à utiliser vos cartes. N'approuvez que si <strong>le code affiché par le site est identique</strong> au code ci-dessous et si vous reconnaissez l'origine.</p>
${
  pending.length === 0
    ? '<p>Aucune demande en attente.</p>'
    : `<table><caption>Demandes en attente</caption><thead><tr><th scope="col">Code</th><th scope="col">Origine</th><th scope="col">Droits demandés</th><th scope="col">Expire le</th><th scope="col">Décision</th></tr></thead><tbody>${pendingRows}</tbody></table>`
}
<h2>Sites appariés</h2>
${
  paired.length === 0
    ? '<p>Aucun site apparié.</p>'
    : `<table><caption>Sites appariés</caption><thead><tr><th scope="col">Origine</th><th scope="col">Droits accordés</th><th scope="col">Depuis le</th><th scope="col">Action</th></tr></thead><tbody>${pairedRows}</tbody></table>`
}
<p><a href="${escapeHtml(action)}">Actualiser</a></p>
</main>
</body>
</html>
`;
    securityHeaders(response);
    response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    response.end(html);
  }
}

/** The request body as text, or undefined past `limit` bytes. */
function readBody(request: IncomingMessage, limit: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    request.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > limit) {
        done = true;
        resolve(undefined);
        request.resume();
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => {
      if (!done) resolve(Buffer.concat(chunks).toString('utf8'));
    });
    request.on('error', reject);
  });
}
