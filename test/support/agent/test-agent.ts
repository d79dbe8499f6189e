// An agent on a free loopback port with its own temporary config and state directories, a
// FakeCardService, and its pino log in a file the tests can grep.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AUDIT_FILE } from '../../../src/agent/audit/audit-log.js';
import { startAgent, type RunningAgent, type StartAgentOptions } from '../../../src/agent/daemon.js';
import { CONSOLE_KEY_FILE, TOKEN_FILE } from '../../../src/agent/security/local-secrets.js';
import { FakeCardService } from './fake-card-service.js';
import { TestClient, type ConnectOptions } from './ws-client.js';

export interface TestAgent {
  readonly agent: RunningAgent;
  readonly url: string;
  readonly port: number;
  readonly root: string;
  readonly configDir: string;
  readonly stateDir: string;
  readonly logFile: string;
  readonly card: FakeCardService;
  token(): string;
  consoleKey(): string;
  connect(options?: ConnectOptions): Promise<TestClient>;
  /** A desktop caller: no Origin, the local token in agent.hello. */
  desktop(appId?: string): Promise<TestClient>;
  auditText(): string;
  auditLines(): Record<string, unknown>[];
  logText(): string;
  close(): Promise<void>;
}

export async function startTestAgent(options: Partial<StartAgentOptions> = {}): Promise<TestAgent> {
  const root = mkdtempSync(join(tmpdir(), 'cardbridge-agent-'));
  const configDir = join(root, 'config', 'cardbridge');
  const stateDir = join(root, 'state');
  const logFile = join(root, 'agent.log');
  const card = (options.cardService as FakeCardService | undefined) ?? new FakeCardService();
  const agent = await startAgent({ port: 0, configDir, stateDir, logDestination: logFile, logLevel: 'debug', cardService: card, ...options });
  const clients: TestClient[] = [];
  const read = (path: string): string => {
    try {
      return readFileSync(path, 'utf8');
    } catch {
      return '';
    }
  };
  const t: TestAgent = {
    agent,
    url: agent.url,
    port: agent.port,
    root,
    configDir,
    stateDir,
    logFile,
    card,
    token: () => read(join(configDir, TOKEN_FILE)).trim(),
    consoleKey: () => read(join(configDir, CONSOLE_KEY_FILE)).trim(),
    async connect(connectOptions) {
      const client = await TestClient.connect(agent.url, connectOptions);
      clients.push(client);
      return client;
    },
    async desktop(appId = 'test-app') {
      const client = await t.connect();
      const hello = await client.result<{ caller: string }>('agent.hello', { token: t.token(), appId });
      if (hello.caller !== 'desktop') throw new Error('desktop hello failed');
      return client;
    },
    auditText: () => read(join(stateDir, AUDIT_FILE)),
    auditLines: () =>
      read(join(stateDir, AUDIT_FILE))
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    logText: () => read(logFile),
    async close() {
      for (const c of clients) c.ws.terminate();
      await agent.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
  return t;
}

/** Waits for the audit stream to reach the disk. */
export async function settle(ms = 50): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms));
}
