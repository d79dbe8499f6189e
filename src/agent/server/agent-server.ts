// The agent's one listening socket (agent-protocol.md "Transport"): loopback only, every accepted
// TCP connection checked for its peer's UID before a byte is read, then one node:http server for
// the WebSocket `/v1` (ws, noServer, 1 MiB frames) and the agent's pages (`/console`, `/pin/…`
// from the card service). Every request and upgrade must carry an allowed `Host`.
import { randomUUID } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { WebSocketServer, type WebSocket } from 'ws';
import type { AuditSink } from '../audit/audit-log.js';
import type { CardService } from '../caller.js';
import { loopbackBindAddress } from '../config.js';
import { CallerState } from '../rpc/caller-state.js';
import { RpcDispatcher } from '../rpc/dispatcher.js';
import { APP_ID } from '../rpc/schemas.js';
import { authorize } from '../rpc/methods.js';
import { notificationFrame } from '../rpc/jsonrpc.js';
import { ConsolePage, CONSOLE_PATH } from '../security/console-page.js';
import { isAllowedHost } from '../security/host-header.js';
import type { Secret } from '../security/local-secrets.js';
import type { PairingStore } from '../security/pairing-store.js';
import type { PeerCheck } from '../security/peer-uid.js';
import { AgentConnection, CLOSE_GOING_AWAY, CLOSE_POLICY_VIOLATION, DEFAULT_FLOOD_LIMITS, type FloodLimits } from './connection.js';
import { refuseUpgrade, sendPlain } from './http-responses.js';

export const WS_PATH = '/v1';
export const MAX_FRAME_BYTES = 1024 * 1024;
const HTTP_IDLE_MS = 30_000;

export interface AgentServerOptions {
  readonly host: string;
  /** 0 = any free port (tests). */
  readonly port: number;
  readonly cardService: CardService;
  readonly pairings: PairingStore;
  readonly token: Secret;
  readonly consoleKey: Secret;
  readonly audit: AuditSink;
  readonly logger: Logger;
  readonly version: string;
  readonly peerCheck: PeerCheck;
  readonly floodLimits?: Partial<FloodLimits>;
  readonly now?: () => number;
}

export interface AgentServer {
  readonly host: string;
  readonly port: number;
  /** `ws://<host>:<port>/v1` */
  readonly url: string;
  close(): Promise<void>;
}

export async function startAgentServer(options: AgentServerOptions): Promise<AgentServer> {
  const bindAddress = loopbackBindAddress(options.host);
  const { logger, audit, cardService, pairings } = options;
  const limits: FloodLimits = { ...DEFAULT_FLOOD_LIMITS, ...options.floodLimits };
  const dispatcher = new RpcDispatcher({ cardService, pairings, token: options.token, audit, logger, version: options.version });
  const connections = new Set<AgentConnection>();
  const sockets = new Set<Socket>();
  let port = options.port;

  const consolePage = new ConsolePage({ key: options.consoleKey, pairings }, (reason) => logger.warn({ reason }, 'requête de console refusée'));
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES, perMessageDeflate: false, clientTracking: false });
  const http = createHttpServer({ maxHeaderSize: 16 * 1024 }, (request, response) => {
    handleRequest(request, response).catch((error: unknown) => {
      logger.error({ err: (error as Error)?.name, at: (error as Error)?.stack?.split('\n')[1] }, 'erreur pendant une requête HTTP');
      sendPlain(response, 500, "Erreur interne de l'agent.");
    });
  });
  http.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => onUpgrade(request, socket, head));

  async function handleRequest(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const host = request.headers.host;
    if (!isAllowedHost(host, port) || host === undefined) {
      logger.warn({ host: clip(host) }, 'requête HTTP refusée : en-tête Host étranger');
      return sendPlain(response, 403, 'Hôte refusé.');
    }
    const url = new URL(request.url ?? '/', `http://${host}`);
    if (url.pathname === WS_PATH) return sendPlain(response, 426, 'Ce point d’accès attend une connexion WebSocket.', { Upgrade: 'websocket' });
    if (url.pathname === CONSOLE_PATH) return consolePage.handle(request, response, url, host);
    if (url.pathname.startsWith('/pin/')) {
      const handled = await cardService.handleHttp(request, response, url);
      if (!handled && !response.headersSent) sendPlain(response, 404, 'Introuvable.');
      return;
    }
    return sendPlain(response, 404, 'Introuvable.');
  }

  function onUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    const host = request.headers.host;
    if (!isAllowedHost(host, port) || host === undefined) {
      logger.warn({ host: clip(host) }, 'connexion WebSocket refusée : en-tête Host étranger');
      return refuseUpgrade(socket, 403, 'Hôte refusé.');
    }
    const url = new URL(request.url ?? '/', `http://${host}`);
    if (url.pathname !== WS_PATH) return refuseUpgrade(socket, 404, 'Introuvable.');
    const origin = request.headers.origin ?? null;
    const authorization = request.headers.authorization;
    let desktop = false;
    if (authorization !== undefined) {
      const bearer = /^Bearer ([\x21-\x7e]{1,256})$/.exec(authorization);
      if (origin !== null) return refuseUpgrade(socket, 400, "Un jeton local ne s'utilise pas depuis une page web.");
      if (!bearer?.[1] || !options.token.matches(bearer[1])) {
        logger.warn('connexion WebSocket refusée : jeton local invalide');
        return refuseUpgrade(socket, 401, 'Jeton local invalide.');
      }
      desktop = true;
    }
    const appId = url.searchParams.get('appId') ?? undefined;
    if (appId !== undefined && !APP_ID.test(appId)) return refuseUpgrade(socket, 400, 'appId invalide.');
    wss.handleUpgrade(request, socket, head, (ws) => onWebSocket(ws, origin, desktop, appId));
  }

  function onWebSocket(ws: WebSocket, origin: string | null, desktop: boolean, appId: string | undefined): void {
    // notify runs only once calls flow, after `connection` exists
    const state: CallerState = new CallerState({
      id: randomUUID(),
      originHeader: origin,
      desktop,
      ...(appId !== undefined ? { appId } : {}),
      pairings,
      notify: (method, params) => connection.notify(method, params),
      ...(options.now ? { now: options.now } : {}),
    });
    const connection = new AgentConnection(ws, state, { dispatcher, cardService, audit, logger, limits }, (c) => connections.delete(c));
    connections.add(connection);
    logger.info({ conn: state.id, caller: state.kind(), origin: state.origin() || undefined }, 'connexion WebSocket ouverte');
  }

  const stopEvents = cardService.onEvent((event, params) => {
    if (event === 'card.removed') {
      const reader = (params as { reader?: unknown } | null)?.reader;
      if (typeof reader === 'string') dispatcher.forgetReader(reader);
    } else if (event === 'pcsc.status') {
      dispatcher.forgetAllReaders();
    }
    let frame: string | undefined;
    for (const connection of connections) {
      const { state } = connection;
      if (!state.subscriptions?.has(event as never)) continue;
      if (authorize({ kind: 'scoped', scope: 'any' }, { kind: state.kind(), scopes: state.scopes() })) continue;
      frame ??= notificationFrame(event, params);
      connection.send(frame);
    }
  });

  // A revoked origin loses its open connections too: their PIN state and queued work go with them.
  const stopPairings = pairings.onChange((change) => {
    if (change.type !== 'revoked') return;
    for (const connection of connections) {
      if (connection.state.originHeader === change.origin) connection.close(CLOSE_POLICY_VIOLATION, 'appariement révoqué');
    }
  });

  const net = createNetServer({ pauseOnConnect: true }, (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    options.peerCheck(socket).then(
      (allowed) => {
        if (socket.destroyed) return;
        if (!allowed) {
          // Another user of the machine: nothing at all, not even an HTTP status.
          logger.warn({ remotePort: socket.remotePort }, "connexion refusée : le pair n'appartient pas à l'utilisateur de l'agent");
          socket.destroy();
          return;
        }
        socket.setTimeout(HTTP_IDLE_MS, () => socket.destroy());
        http.emit('connection', socket);
        socket.resume();
      },
      () => socket.destroy(),
    );
  });

  await new Promise<void>((resolve, reject) => {
    net.once('error', reject);
    net.listen({ host: bindAddress, port: options.port, exclusive: true }, () => {
      net.off('error', reject);
      resolve();
    });
  });
  net.on('error', (error) => logger.error({ err: error.message }, "erreur du socket d'écoute"));
  const address = net.address() as AddressInfo;
  port = address.port;
  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `ws://${urlHost}:${port}${WS_PATH}`;
  logger.info({ url }, "agent à l'écoute");

  let closing: Promise<void> | undefined;
  return {
    host: address.address,
    port,
    url,
    close() {
      closing ??= (async () => {
        stopEvents();
        stopPairings();
        const closed = new Promise<void>((resolve) => net.close(() => resolve()));
        for (const connection of connections) connection.close(CLOSE_GOING_AWAY, "arrêt de l'agent");
        await waitUntil(() => connections.size === 0, 1000);
        for (const socket of sockets) socket.destroy();
        http.closeAllConnections();
        wss.close();
        await closed;
      })();
      return closing;
    },
  };
}

function clip(value: string | undefined): string | undefined {
  return value === undefined ? undefined : value.slice(0, 100);
}

async function waitUntil(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
}
