// End-to-end harness: the real agent (startAgent with `pcsc: 'mock'`, so the daemon's own wiring of
// the card service, audit log and logger) over the native pcsclite mock's default machine, in its
// own temporary config and state directories, with its pino log in a file. Clients are the
// project's AgentClient over `ws`: desktop ones read the local token the agent created; browser
// ones send an Origin header on the upgrade as a page would.
import { createHash, verify, X509Certificate } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { defaultMockPcsc, type MockPcsc } from '../../../native-mocks/pcsclite/index.js';
import { AUDIT_FILE } from '../../../src/agent/audit/audit-log.js';
import { startAgent, type RunningAgent, type StartAgentOptions } from '../../../src/agent/daemon.js';
import { TOKEN_FILE } from '../../../src/agent/security/local-secrets.js';
import { AgentClient, type AgentClientOptions, type AuthenticationToken, type PinPrompt } from '../../../src/client/agent-client/index.js';
import { TestPki } from '../../../src/pki/test-pki.js';
import { createPersonaCard } from '../../../src/simulator/card-factory.js';
import type { PersonaId } from '../../../src/simulator/personas.js';

export const BROWSER_ORIGIN = 'https://app.example';

export interface E2eAgent {
  readonly agent: RunningAgent;
  readonly url: string;
  /** `http://127.0.0.1:<port>`: the PIN page's origin. */
  readonly httpOrigin: string;
  readonly root: string;
  readonly configDir: string;
  readonly stateDir: string;
  readonly logFile: string;
  readonly mock: MockPcsc;
  readonly pki: TestPki;
  token(): string;
  card(persona: PersonaId): ReturnType<typeof createPersonaCard>;
  /** A desktop client: no Origin, the local token read from the config dir, `appId`. */
  desktop(appId?: string, options?: Partial<AgentClientOptions>): Promise<AgentClient>;
  /** A browser page of `origin`: the upgrade carries `Origin: <origin>`. */
  browser(origin?: string, options?: Partial<AgentClientOptions>): Promise<AgentClient>;
  auditText(): string;
  logText(): string;
  /** Every file under the state and config dirs plus the log, concatenated (for greps). */
  everythingWritten(): string;
  close(): Promise<void>;
}

export interface E2eOptions {
  /** Readers and the persona in each (null = empty reader). */
  readonly readers: Readonly<Record<string, PersonaId | null>>;
  readonly agent?: Partial<StartAgentOptions>;
}

/** `ws` as a browser page's WebSocket: every upgrade carries the page's Origin. */
export function browserWebSocket(origin: string): AgentClientOptions['WebSocket'] {
  return class extends WebSocket {
    constructor(url: string) {
      super(url, { origin });
    }
  };
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

function allFiles(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? allFiles(p) : [p];
  });
}

export async function startE2eAgent(options: E2eOptions): Promise<E2eAgent> {
  const root = mkdtempSync(join(tmpdir(), 'cb-agent-e2e-'));
  const pki = await TestPki.open(join(root, 'pki'));
  const mock = defaultMockPcsc;
  for (const [reader, persona] of Object.entries(options.readers)) {
    if (!mock.system.hasReader(reader)) mock.addReader(reader);
    if (persona) mock.insertCard(reader, await createPersonaCard(persona, { pki }));
  }
  const configDir = join(root, 'config', 'cardbridge');
  const stateDir = join(root, 'state');
  const logFile = join(root, 'agent.log');
  const agent = await startAgent({ port: 0, configDir, stateDir, logDestination: logFile, logLevel: 'debug', pcsc: 'mock', ...options.agent });
  const httpOrigin = `http://127.0.0.1:${agent.port}`;
  const clients: AgentClient[] = [];
  const token = (): string => readFileSync(join(configDir, TOKEN_FILE), 'utf8').trim();
  const connect = async (o: AgentClientOptions): Promise<AgentClient> => {
    const c = await AgentClient.connect({ url: agent.url, reconnect: false, ...o });
    clients.push(c);
    return c;
  };
  await waitFor('the agent sees the readers', async () => {
    const d = await AgentClient.connect({ url: agent.url, WebSocket, token: token(), appId: 'e2e-probe', reconnect: false });
    try {
      const listed = await d.readers();
      return Object.entries(options.readers).every(([name, persona]) => listed.some((r) => r.name === name && (persona === null) === (r.card === null)));
    } finally {
      await d.close();
    }
  });
  return {
    agent,
    url: agent.url,
    httpOrigin,
    root,
    configDir,
    stateDir,
    logFile,
    mock,
    pki,
    token,
    card: (persona) => createPersonaCard(persona, { pki }),
    desktop: (appId = 'logiciel-e2e', o = {}) => connect({ WebSocket, token: token(), appId, ...o }),
    browser: (origin = BROWSER_ORIGIN, o = {}) => connect({ WebSocket: browserWebSocket(origin), ...o }),
    auditText: () => readText(join(stateDir, AUDIT_FILE)),
    logText: () => readText(logFile),
    everythingWritten: () => [...allFiles(stateDir), ...allFiles(configDir), logFile].map(readText).join('\n'),
    async close() {
      for (const c of clients) await c.close();
      await agent.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 5000, stepMs = 20): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > end) throw new Error(`timed out (${timeoutMs} ms) waiting for ${what}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

/** The bytes an authentication token signs: SHA-256(origin) || SHA-256(challenge). */
export function signedData(origin: string, challenge: string): Buffer {
  return Buffer.concat([createHash('sha256').update(origin, 'utf8').digest(), createHash('sha256').update(challenge, 'utf8').digest()]);
}

/** Does the token's signature verify, with the certificate it carries, for `origin`? (RS256 = PKCS#1 v1.5 over SHA-256.) */
export function tokenVerifiesFor(token: AuthenticationToken, origin: string, challenge: string): boolean {
  const cert = new X509Certificate(Buffer.from(token.unverifiedCertificate, 'base64'));
  return verify('sha256', signedData(origin, challenge), cert.publicKey, Buffer.from(token.signature, 'base64'));
}

export interface HttpAnswer {
  readonly status: number;
  readonly body: string;
}

/** GET the PIN page of a prompt (Node fetch). */
export async function getPinPage(prompt: PinPrompt): Promise<HttpAnswer> {
  const res = await fetch(prompt.url);
  return { status: res.status, body: await res.text() };
}

export function csrfOf(html: string): string {
  const m = /name="csrf" value="([^"]+)"/.exec(html);
  if (!m?.[1]) throw new Error('no CSRF token on the PIN page');
  return m[1];
}

/** POSTs the PIN page's form as the page itself would: Origin = the agent's, Sec-Fetch-Site: same-origin, the page's CSRF token. */
export async function postPinForm(prompt: PinPrompt, fields: Record<string, string>, headers: Record<string, string> = {}): Promise<HttpAnswer> {
  const url = new URL(prompt.url);
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: url.origin, 'Sec-Fetch-Site': 'same-origin', ...headers },
    body: new URLSearchParams(fields).toString(),
  });
  return { status: res.status, body: await res.text() };
}

/** Types the PIN on the prompt's page: GET it, read its CSRF token, POST. */
export async function enterPinOnPage(prompt: PinPrompt, pin: string): Promise<HttpAnswer> {
  const page = await getPinPage(prompt);
  if (page.status !== 200) throw new Error(`PIN page answered ${page.status}`);
  return postPinForm(prompt, { csrf: csrfOf(page.body), pin, action: 'submit' });
}

/** VERIFY commands with data (INS 20, a PIN presented) in an APDU log. */
export function pinPresentations(log: readonly { command: string }[]): number {
  return log.filter((e) => {
    const b = e.command.split(' ');
    return b[1] === '20' && b.length > 5;
  }).length;
}

/** The card's own answer about its PIN (VERIFY without data): '90 00' = verified, '63 Cx' = not verified, x tries left. */
export function lastPinStatusAnswer(log: readonly { command: string; response: string }[]): string | undefined {
  return log.filter((e) => {
    const b = e.command.split(' ');
    return b[1] === '20' && b.length <= 5;
  }).at(-1)?.response;
}
