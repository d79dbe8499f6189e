// The control API of `cardbridge sim` (simulator.md), as a plain node:http request handler:
//   GET    /slots                 -> 200 [{ slot, card }]
//   PUT    /slots/{n}             -> 201 { slot, card } ; body { "card": "<persona>", "fresh"?: true }
//                                    400 bad JSON/body, 404 unknown slot or persona, 409 slot full
//   DELETE /slots/{n}             -> 204 (card removed)
//   GET    /slots/{n}/apdu-log    -> 200 [{ t, command, response }]
//   DELETE /slots/{n}/apdu-log    -> 204
// Errors are JSON { error: <code>, message }.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SlotError, type SlotRegistry } from '../slots.js';
import { isLoopbackHost } from './host-check.js';

const MAX_BODY_BYTES = 64 * 1024;

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

function send(res: ServerResponse, status: number, body?: unknown, headers: Record<string, string> = {}): void {
  if (body === undefined) {
    res.writeHead(status, { 'cache-control': 'no-store', ...headers });
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(text)),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, 'body-too-large', `body over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseInsertBody(text: string): { card: string; fresh: boolean } {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new HttpError(400, 'bad-json', 'body is not valid JSON');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new HttpError(400, 'bad-request', 'body must be a JSON object { "card": "<persona>", "fresh"?: true }');
  }
  const { card, fresh } = body as { card?: unknown; fresh?: unknown };
  if (typeof card !== 'string' || card.length === 0) throw new HttpError(400, 'bad-request', '"card" must be a persona id string');
  if (fresh !== undefined && typeof fresh !== 'boolean') throw new HttpError(400, 'bad-request', '"fresh" must be a boolean');
  return { card, fresh: fresh ?? false };
}

function slotErrorStatus(e: SlotError): number {
  switch (e.code) {
    case 'unknown-slot':
    case 'unknown-card':
      return 404;
    case 'slot-occupied':
    case 'card-in-use':
      return 409;
  }
}

function methodNotAllowed(allowed: string): never {
  throw new HttpError(405, 'method-not-allowed', 'method not allowed', { allow: allowed });
}

/** Slot number of a path segment: decimal digits only ("01" and "1e0" are not slots). */
function slotNumber(segment: string): number {
  if (!/^(0|[1-9][0-9]{0,5})$/.test(segment)) throw new HttpError(404, 'unknown-slot', `no slot ${segment}`);
  return Number(segment);
}

export function createControlHandler(registry: SlotRegistry, port: () => number) {
  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!isLoopbackHost(req.headers.host, port())) {
      throw new HttpError(403, 'forbidden-host', 'Host must be 127.0.0.1, localhost or [::1] with this port');
    }
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const parts = url.pathname.split('/').filter((p, i) => i > 0 || p !== '');
    const method = req.method ?? 'GET';

    if (parts.length === 1 && parts[0] === 'slots') {
      if (method !== 'GET' && method !== 'HEAD') methodNotAllowed('GET, HEAD');
      return send(res, 200, registry.list());
    }
    if (parts[0] !== 'slots' || parts.length < 2 || parts.length > 3) throw new HttpError(404, 'not-found', 'not found');
    if (parts.length === 3 && parts[2] !== 'apdu-log') throw new HttpError(404, 'not-found', 'not found');
    const n = slotNumber(parts[1] ?? '');
    if (n >= registry.size) throw new HttpError(404, 'unknown-slot', `no slot ${n} (slots 0..${registry.size - 1})`);

    if (parts.length === 3) {
      if (method === 'GET' || method === 'HEAD') return send(res, 200, registry.apduLog(n));
      if (method === 'DELETE') {
        registry.clearApduLog(n);
        return send(res, 204);
      }
      methodNotAllowed('GET, HEAD, DELETE');
    }
    if (method === 'PUT') {
      const { card, fresh } = parseInsertBody(await readBody(req));
      await registry.insert(n, card, { fresh });
      return send(res, 201, { slot: n, card });
    }
    if (method === 'DELETE') {
      registry.remove(n);
      return send(res, 204);
    }
    if (method === 'GET' || method === 'HEAD') {
      const info = registry.list()[n];
      return send(res, 200, info);
    }
    methodNotAllowed('GET, HEAD, PUT, DELETE');
  }

  return (req: IncomingMessage, res: ServerResponse): void => {
    route(req, res).catch((e: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (e instanceof HttpError) return send(res, e.status, { error: e.code, message: e.message }, e.headers);
      if (e instanceof SlotError) return send(res, slotErrorStatus(e), { error: e.code, message: e.message });
      const message = e instanceof Error ? e.message : String(e);
      send(res, 500, { error: 'internal', message });
    });
  };
}
