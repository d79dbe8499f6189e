// The PIN page's HTTP side (`/pin/<id>` on the agent's port; the connection layer has checked
// Host). GET shows the form of an open prompt (or what became of it). POST is accepted only from
// the agent's own origin — `Origin` equal to the agent's base URL and `Sec-Fetch-Site:
// same-origin` — with the CSRF token of that page; anything else is refused without touching the
// prompt. The POST answers once the call has presented the PIN: done, or the form again.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AgentError } from '../errors.js';
import { pinPageHeaders, PROMPT_FIELDS, renderEnded, renderMessage, renderPromptForm } from './page.js';
import type { PinPrompt, PromptRegistry, PromptValues, SubmitReply } from './prompts.js';

/** A form of three PINs with their CSRF token is far below this. */
const MAX_BODY = 4096;
const ID = /^\/pin\/([A-Za-z0-9_-]{16,64})$/;

function send(response: ServerResponse, status: number, html: string, extra: Record<string, string> = {}): void {
  response.writeHead(status, { ...pinPageHeaders(), ...extra, 'Content-Length': String(Buffer.byteLength(html)) });
  response.end(html);
}

/** The body, or null when it is too large (the connection is then closed by the answer). */
async function readBody(request: IncomingMessage): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    const b = chunk as Buffer;
    size += b.length;
    if (size > MAX_BODY) {
      for (const c of chunks) c.fill(0);
      b.fill(0);
      return null;
    }
    chunks.push(b);
  }
  const body = Buffer.concat(chunks);
  for (const c of chunks) c.fill(0);
  return body;
}

function pageFor(prompt: PinPrompt): string {
  if (!prompt.ended) return renderPromptForm(prompt, prompt.purpose);
  const end = prompt.state as Exclude<PinPrompt['state'], 'waiting' | 'processing'>;
  if (end === 'failed' && prompt.failureCode === 'PIN_INCORRECT') {
    const n = prompt.triesRemaining;
    return renderEnded(end, {
      fr: `Code incorrect. Il reste ${n} essai${n > 1 ? 's' : ''} : l’application doit confirmer l’usage du dernier essai avant une nouvelle saisie.`,
      en: `Incorrect PIN. ${n} ${n > 1 ? 'tries' : 'try'} left: the application must confirm the use of the last try before another entry.`,
    });
  }
  return renderEnded(end);
}

/**
 * Serves /pin/… ; false for any other path.
 * @param agentOrigin the agent's own origin (`http://127.0.0.1:24820`), the only one allowed to post.
 */
export async function handlePinHttp(prompts: PromptRegistry, agentOrigin: string, request: IncomingMessage, response: ServerResponse, url: URL): Promise<boolean> {
  if (url.pathname !== '/pin' && !url.pathname.startsWith('/pin/')) return false;
  const match = ID.exec(url.pathname);
  const prompt = match ? prompts.get(match[1]!) : undefined;
  const method = request.method ?? 'GET';
  if (method !== 'GET' && method !== 'HEAD' && method !== 'POST') {
    request.resume();
    send(response, 405, renderMessage('Méthode non autorisée.', 'Method not allowed.'), { Allow: 'GET, POST' });
    return true;
  }
  if (!prompt) {
    request.resume();
    send(response, 404, renderMessage('Cette demande de code n’existe pas ou n’est plus valable.', 'This PIN request does not exist or is no longer valid.'));
    return true;
  }
  if (method !== 'POST') {
    send(response, prompt.ended ? 410 : 200, pageFor(prompt));
    return true;
  }

  // POST: the agent's own page only.
  if (request.headers.origin !== agentOrigin || request.headers['sec-fetch-site'] !== 'same-origin') {
    request.resume();
    send(response, 403, renderMessage('Envoi refusé : ce formulaire ne peut être envoyé que depuis la page de l’agent.', 'Refused: this form can only be sent from the agent’s own page.'));
    return true;
  }
  const type = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') {
    request.resume();
    send(response, 415, renderMessage('Format de formulaire non pris en charge.', 'Unsupported form encoding.'));
    return true;
  }
  const body = await readBody(request);
  if (!body) {
    send(response, 413, renderMessage('Formulaire trop volumineux.', 'Form too large.'), { Connection: 'close' });
    return true;
  }
  const form = new URLSearchParams(body.toString('utf8'));
  body.fill(0);
  if (!prompt.checkCsrf(form.get('csrf'))) {
    send(response, 403, renderMessage('Envoi refusé : jeton de formulaire invalide. Rechargez la page.', 'Refused: invalid form token. Reload the page.'));
    return true;
  }
  if (prompt.ended) {
    send(response, 410, pageFor(prompt));
    return true;
  }
  if (form.get('action') === 'cancel') {
    prompt.cancel();
    send(response, 200, pageFor(prompt));
    return true;
  }
  const values: Record<string, string> = {};
  for (const name of PROMPT_FIELDS[prompt.kind]) values[name] = form.get(name) ?? '';
  let reply: SubmitReply;
  try {
    reply = await prompt.submit(values as PromptValues);
  } catch (error) {
    if (error instanceof AgentError && error.code === 'BUSY') {
      send(response, 409, renderMessage('Une saisie est déjà en cours de vérification.', 'An entry is already being checked.'));
      return true;
    }
    throw error;
  }
  send(response, 200, reply.kind === 'retry' ? renderPromptForm(prompt, prompt.purpose) : pageFor(prompt));
  return true;
}
