// What the browser tests start in process: the DMP service on SQLite, listening on a port chosen
// beforehand so that its own origin (where the pages come from) is an allowed origin; the client
// libraries' browser bundles built into a temp dir for the pages; the agent over the native
// pcsclite mock with virtual cards; and the patient's one-time password read from the outbox.
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildBrowserBundles } from '../../scripts/build-browser-bundle.js';
import { createMockPcsc, type MockPcsc } from '../../native-mocks/pcsclite/index.js';
import { createCardService } from '../../src/agent/cards/index.js';
import { startAgent, type RunningAgent } from '../../src/agent/daemon.js';
import { loadConsoleKey, loadLocalToken } from '../../src/agent/security/local-secrets.js';
import { buildDmpApp } from '../../src/dmp/app.js';
import { openOutboxText } from '../../src/dmp/portal/index.js';
import { openDmpStore, type DmpStore } from '../../src/dmp/store/index.js';
import { createPersonaCard } from '../../src/simulator/card-factory.js';
import type { PersonaId } from '../../src/simulator/personas.js';
import { freshTempDir, type DmpTestPki } from '../support/dmp/index.js';

/** A TCP port free on 127.0.0.1 right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Builds the bundles into a fresh dir and points the pages at it (CARDBRIDGE_BROWSER_DIR). */
export async function buildBundlesForPages(): Promise<string> {
  const dir = freshTempDir('cardbridge-pages-bundles-');
  await buildBrowserBundles(dir);
  process.env.CARDBRIDGE_BROWSER_DIR = dir;
  return dir;
}

export interface PagesService {
  readonly app: FastifyInstance;
  readonly store: DmpStore;
  /** `http://127.0.0.1:<port>`: the public URL, the pages' origin, an allowed origin. */
  readonly url: string;
  close(): Promise<void>;
}

export async function startPagesService(pki: DmpTestPki): Promise<PagesService> {
  const dir = freshTempDir('cardbridge-pages-dmp-');
  const store = await openDmpStore(`sqlite:${join(dir, 'dmp.sqlite')}`);
  // a port taken by someone else between the probe and the listen: try another
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const app = await buildDmpApp({
      db: `sqlite:${join(dir, 'dmp.sqlite')}`,
      store,
      host: '127.0.0.1',
      port,
      publicUrl: url,
      allowedOrigins: [url],
      trustAnchors: pki.trustAnchors,
      crlFiles: pki.crlFiles,
      crlDistributionPoints: false,
      masterKeyFile: join(dir, 'master.key'),
      logger: false,
      purgeIntervalMs: 0,
    });
    try {
      await app.listen({ host: '127.0.0.1', port });
    } catch (error) {
      await app.close();
      if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE' && attempt < 5) continue;
      await store.close();
      throw error;
    }
    return {
      app,
      store,
      url,
      close: async () => {
        await app.close();
        await store.close();
      },
    };
  }
}

export interface MockAgent {
  readonly agent: RunningAgent;
  readonly mock: MockPcsc;
  /** `http://127.0.0.1:<port>/console?k=<key>` */
  readonly consoleUrl: string;
  /** The local token (desktop callers: `agent.approvePairing`…). */
  readonly token: string;
  /** Replaces the card of a reader by a new persona card. */
  swapCard(reader: string, persona: PersonaId): Promise<void>;
  close(): Promise<void>;
}

export const CPS_READER = 'Lecteur CPS';
export const VITALE_READER = 'Lecteur Vitale';

/** The agent over the native mock: a CPS reader and a Vitale reader holding these personas' cards. */
export async function startMockAgent(pki: DmpTestPki, cards: { cps: PersonaId; vitale: PersonaId }): Promise<MockAgent> {
  const root = freshTempDir('cardbridge-pages-agent-');
  const mock = createMockPcsc({ readers: [CPS_READER, VITALE_READER] });
  mock.insertCard(CPS_READER, await createPersonaCard(cards.cps, { pki: pki.pki }));
  mock.insertCard(VITALE_READER, await createPersonaCard(cards.vitale, { pki: pki.pki }));
  let origin = 'http://127.0.0.1:24820';
  const cardService = createCardService({ pcsc: mock.pcsclite, allowVirtualReaders: false, agentBaseUrl: () => origin, appVersion: '0.1.0-test', env: {} });
  await cardService.whenReady();
  const configDir = join(root, 'config');
  const agent = await startAgent({ port: 0, configDir, stateDir: join(root, 'state'), logDestination: join(root, 'agent.log'), cardService });
  origin = `http://127.0.0.1:${agent.port}`;
  const key = loadConsoleKey(configDir).reveal();
  return {
    agent,
    mock,
    consoleUrl: `${origin}/console?k=${encodeURIComponent(key)}`,
    token: loadLocalToken(configDir).reveal(),
    swapCard: async (reader, persona) => {
      mock.removeCard(reader);
      mock.insertCard(reader, await createPersonaCard(persona, { pki: pki.pki }));
    },
    close: () => agent.close(),
  };
}

/** What the SMS gateway would send: the 6-digit code of the latest message to this recipient. */
export async function otpFromOutbox(service: PagesService, recipient: string): Promise<string> {
  const messages = await service.store.portal.listOutbox(recipient);
  const last = messages.at(-1);
  if (!last) throw new Error(`no outbox message for ${recipient}`);
  const text = await openOutboxText(last, service.app.dmp.keyProvider!);
  const code = /\b(\d{6})\b/.exec(text)?.[1];
  if (!code) throw new Error(`no code in the message: ${text}`);
  return code;
}

