// `cardbridge agent`: run the agent in the foreground (default subcommand `run`), install it as a
// systemd user service, show its status, print the console URL, and manage paired origins
// (`pair list|approve|deny|revoke`). Commands that need the running agent talk to it as a desktop
// caller with the local token; `pair list` and `pair revoke` fall back to the pairing file when
// no agent runs.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { DEFAULT_AGENT_HOST, DEFAULT_AGENT_PORT, defaultConfigDir, packageRoot, validPort } from '../../agent/config.js';
import { startAgent } from '../../agent/daemon.js';
import { AgentCallError, AgentNotRunningError, LocalAgentClient } from '../../agent/rpc/local-client.js';
import { CONSOLE_PATH } from '../../agent/security/console-page.js';
import { loadConsoleKey, loadLocalToken } from '../../agent/security/local-secrets.js';
import { PairingStore, type PairedOrigin, type PendingPairing } from '../../agent/security/pairing-store.js';
import { describeScopesFr } from '../../agent/security/scope-labels.js';
import type { Scope } from '../../agent/caller.js';
import { CliError } from '../support/reader-access.js';
import { runCommand, type OutputOptions } from '../support/run-command.js';
import { FAMILY_LABEL } from './cards.js';

export const SERVICE_NAME = 'cardbridge-agent.service';
/** Exit code of `agent status` (and commands needing the agent) when no agent answers. */
export const EXIT_NOT_RUNNING = 3;

export interface AgentTarget {
  port?: string | number;
  config?: string;
}

interface Target {
  readonly port: number;
  readonly configDir: string;
}

function target(options: AgentTarget): Target {
  const port = options.port === undefined ? DEFAULT_AGENT_PORT : Number(options.port);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new CliError('INVALID_PARAMS', `Port invalide : ${String(options.port)}.`);
  return { port, configDir: options.config ?? defaultConfigDir() };
}

async function withAgent<T>(t: Target, fn: (client: LocalAgentClient) => Promise<T>): Promise<T> {
  const client = await LocalAgentClient.connect({ port: t.port, token: loadLocalToken(t.configDir).reveal() });
  try {
    return await fn(client);
  } finally {
    client.close();
  }
}

function notRunning(t: Target): CliError {
  return new CliError(
    'AGENT_NOT_RUNNING',
    `L'agent ne fonctionne pas (rien ne répond sur ws://${DEFAULT_AGENT_HOST}:${t.port}/v1) : démarrez-le avec « cardbridge agent » ou « cardbridge agent install ».`,
    EXIT_NOT_RUNNING,
  );
}

function asCliError(error: unknown, t: Target): unknown {
  if (error instanceof AgentNotRunningError) return notRunning(t);
  if (error instanceof AgentCallError) return new CliError(error.code, error.message);
  return error;
}

// ---- status ----------------------------------------------------------------------------------

export interface ReaderLine {
  readonly name: string;
  readonly card: null | { family: string; atr: string };
}

export type AgentStatus =
  | {
      readonly running: true;
      readonly url: string;
      readonly version: string;
      readonly protocol: number;
      readonly pcsc: string;
      readonly readers: ReaderLine[] | { error: string; message: string };
      readonly paired: PairedOrigin[];
      readonly pending: PendingPairing[];
    }
  | { readonly running: false; readonly url: string; readonly paired: PairedOrigin[] };

export async function agentStatus(options: AgentTarget): Promise<AgentStatus> {
  const t = target(options);
  const url = `ws://${DEFAULT_AGENT_HOST}:${t.port}/v1`;
  try {
    return await withAgent(t, async (client) => {
      const info = await client.call<{ version: string; protocol: number; pcsc: string }>('agent.info');
      let readers: ReaderLine[] | { error: string; message: string };
      try {
        readers = await client.call<ReaderLine[]>('readers.list');
      } catch (error) {
        if (!(error instanceof AgentCallError)) throw error;
        readers = { error: error.code, message: error.message };
      }
      const { paired, pending } = await client.call<{ paired: PairedOrigin[]; pending: PendingPairing[] }>('agent.listPairings');
      return { running: true as const, url, version: info.version, protocol: info.protocol, pcsc: info.pcsc, readers, paired, pending };
    });
  } catch (error) {
    if (error instanceof AgentNotRunningError) return { running: false, url, paired: PairingStore.inConfigDir(t.configDir).paired() };
    throw asCliError(error, t);
  }
}

function frenchDate(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString('fr-FR');
}

function renderPaired(paired: readonly PairedOrigin[]): string {
  if (paired.length === 0) return 'Sites appariés : aucun.';
  return ['Sites appariés :', ...paired.map((p) => `  - ${p.origin} : ${p.scopes.join(', ')} (depuis le ${frenchDate(p.pairedAt)})`)].join('\n');
}

function renderPending(pending: readonly PendingPairing[]): string {
  if (pending.length === 0) return "Demandes d'appariement en attente : aucune.";
  return [
    "Demandes d'appariement en attente :",
    ...pending.map((p) => `  - code ${p.code} : ${p.origin} demande ${p.scopes.join(', ')} (expire le ${frenchDate(p.expiresAt)})`),
  ].join('\n');
}

export function renderStatus(status: AgentStatus): string {
  if (!status.running) {
    return [`Agent cardbridge : arrêté (rien ne répond sur ${status.url}).`, renderPaired(status.paired)].join('\n');
  }
  const readers = Array.isArray(status.readers)
    ? status.readers.length === 0
      ? 'Lecteurs : aucun.'
      : ['Lecteurs :', ...status.readers.map((r) => `  - ${r.name} : ${r.card ? `${FAMILY_LABEL[r.card.family] ?? r.card.family} (ATR ${r.card.atr})` : 'pas de carte'}`)].join('\n')
    : `Lecteurs : indisponibles (${status.readers.message})`;
  return [
    `Agent cardbridge : en marche (version ${status.version}, protocole ${status.protocol}) sur ${status.url}`,
    `PC/SC : ${status.pcsc === 'ok' ? 'disponible' : 'indisponible (pcscd ne répond pas)'}`,
    readers,
    renderPaired(status.paired),
    renderPending(status.pending),
  ].join('\n');
}

// ---- console ---------------------------------------------------------------------------------

export function consoleUrl(options: AgentTarget): { url: string } {
  const t = target(options);
  const key = loadConsoleKey(t.configDir).reveal();
  return { url: `http://${DEFAULT_AGENT_HOST}:${t.port}${CONSOLE_PATH}?k=${encodeURIComponent(key)}` };
}

// ---- pair ------------------------------------------------------------------------------------

export async function pairList(options: AgentTarget): Promise<{ running: boolean; paired: PairedOrigin[]; pending: PendingPairing[] }> {
  const t = target(options);
  try {
    return { running: true, ...(await withAgent(t, (c) => c.call<{ paired: PairedOrigin[]; pending: PendingPairing[] }>('agent.listPairings'))) };
  } catch (error) {
    if (error instanceof AgentNotRunningError) return { running: false, paired: PairingStore.inConfigDir(t.configDir).paired(), pending: [] };
    throw asCliError(error, t);
  }
}

/** Asks the user (on a terminal) whether to approve; false = no. */
export type Confirm = (question: string) => Promise<boolean>;

export const terminalConfirm: Confirm = async (question) => {
  if (!process.stdin.isTTY) {
    throw new CliError('CONFIRMATION_REQUIRED', "Pas de terminal pour confirmer : relancez avec --yes après avoir vérifié l'origine et le code.");
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^(o|oui|y|yes)$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
};

export async function pairApprove(code: string, options: AgentTarget & { yes?: boolean }, confirm: Confirm = terminalConfirm): Promise<PairedOrigin> {
  if (!/^\d{6}$/.test(code)) throw new CliError('INVALID_PARAMS', 'Le code est composé de 6 chiffres.');
  const t = target(options);
  try {
    return await withAgent(t, async (client) => {
      const { pending } = await client.call<{ pending: PendingPairing[] }>('agent.listPairings');
      const request = pending.find((p) => p.code === code);
      if (!request) throw new CliError('UNKNOWN_CODE', `Aucune demande d'appariement en attente avec le code ${code} (expirée, remplacée ou déjà traitée).`);
      process.stderr.write(`Demande ${code} : le site ${request.origin} demande : ${describeScopesFr(request.scopes as Scope[])}.\n`);
      if (options.yes !== true && !(await confirm('Vérifiez que le site affiche le même code. Approuver ? [o/N] '))) {
        throw new CliError('USER_CANCELLED', 'Appariement non approuvé.');
      }
      return client.call<PairedOrigin>('agent.approvePairing', { code });
    });
  } catch (error) {
    throw asCliError(error, t);
  }
}

export async function pairDeny(code: string, options: AgentTarget): Promise<{ ok: true; code: string }> {
  const t = target(options);
  try {
    await withAgent(t, (client) => client.call('agent.denyPairing', { code }));
    return { ok: true, code };
  } catch (error) {
    throw asCliError(error, t);
  }
}

export async function pairRevoke(origin: string, options: AgentTarget): Promise<{ origin: string; revoked: boolean; running: boolean }> {
  const t = target(options);
  try {
    const { revoked } = await withAgent(t, (client) => client.call<{ revoked: boolean }>('agent.revokePairing', { origin }));
    return { origin, revoked, running: true };
  } catch (error) {
    if (error instanceof AgentNotRunningError) {
      // no agent holds the store in memory: the file is ours to change
      return { origin, revoked: PairingStore.inConfigDir(t.configDir).revoke(origin, 'cli'), running: false };
    }
    throw asCliError(error, t);
  }
}

// ---- install ---------------------------------------------------------------------------------

export interface InstallOptions {
  port?: string;
  config?: string;
  stateDir?: string;
  allowVirtualReaders?: boolean;
  pinPerSignature?: boolean;
  start?: boolean;
}

export interface InstallResult {
  readonly unitPath: string;
  readonly started: boolean;
  readonly message: string;
}

function quoteArg(arg: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? arg : `"${arg.replace(/["\\]/g, '\\$&')}"`;
}

/** The unit text: the template with node, the entry point and the options filled in. */
export function renderUnit(template: string, values: { node: string; cli: string; args: readonly string[]; docs: string }): string {
  return template
    .replaceAll('@NODE@', quoteArg(values.node))
    .replaceAll('@CLI@', quoteArg(values.cli))
    .replaceAll('@ARGS@', values.args.map((a) => ` ${quoteArg(a)}`).join(''))
    .replaceAll('@DOCS@', values.docs);
}

export function installService(
  options: InstallOptions,
  env: NodeJS.ProcessEnv = process.env,
  run: (cmd: string, args: string[]) => { status: number | null; stderr: string } = (cmd, args) => {
    const r = spawnSync(cmd, args, { encoding: 'utf8' });
    return { status: r.error ? null : r.status, stderr: r.stderr ?? '' };
  },
): InstallResult {
  const root = packageRoot();
  const template = readFileSync(join(root, 'scripts', 'cardbridge-agent.service'), 'utf8');
  const cli = join(root, 'bin', 'cardbridge.js');
  if (!existsSync(join(root, 'dist', 'src', 'cli', 'main.js'))) {
    throw new CliError('NOT_BUILT', `cardbridge n'est pas compilé (${join(root, 'dist')} absent) : lancez « npm run build » avant « agent install ».`);
  }
  const args: string[] = [];
  if (options.port !== undefined) args.push('--port', String(validPort(Number(options.port))));
  if (options.config !== undefined) args.push('--config', options.config);
  if (options.stateDir !== undefined) args.push('--state-dir', options.stateDir);
  if (options.allowVirtualReaders) args.push('--allow-virtual-readers');
  if (options.pinPerSignature) args.push('--pin-per-signature');
  const xdg = env.XDG_CONFIG_HOME;
  const unitDir = join(xdg !== undefined && isAbsolute(xdg) ? xdg : join(env.HOME ?? homedir(), '.config'), 'systemd', 'user');
  const unitPath = join(unitDir, SERVICE_NAME);
  mkdirSync(unitDir, { recursive: true });
  writeFileSync(unitPath, renderUnit(template, { node: process.execPath, cli, args, docs: join(root, 'docs', 'agent.md') }), { mode: 0o644 });

  const manual = `Pour le démarrer : systemctl --user daemon-reload && systemctl --user enable --now ${SERVICE_NAME}\nSans systemd : lancez « cardbridge agent » au démarrage de votre session.`;
  if (options.start === false) return { unitPath, started: false, message: `Service écrit dans ${unitPath}.\n${manual}` };
  const reload = run('systemctl', ['--user', 'daemon-reload']);
  if (reload.status !== 0) {
    return { unitPath, started: false, message: `Service écrit dans ${unitPath}, mais systemd (session utilisateur) ne répond pas${reload.stderr ? ` : ${reload.stderr.trim()}` : ''}.\n${manual}` };
  }
  const enable = run('systemctl', ['--user', 'enable', '--now', SERVICE_NAME]);
  if (enable.status !== 0) {
    return { unitPath, started: false, message: `Service écrit dans ${unitPath}, mais son activation a échoué : ${enable.stderr.trim()}\n${manual}` };
  }
  return { unitPath, started: true, message: `Service ${SERVICE_NAME} installé (${unitPath}), activé et démarré. État : cardbridge agent status` };
}

// ---- run -------------------------------------------------------------------------------------

interface RunOptions {
  port?: string;
  host?: string;
  config?: string;
  stateDir?: string;
  logLevel?: string;
  allowVirtualReaders?: boolean;
  pinPerSignature?: boolean;
  pcsc?: string;
}

async function runAgent(options: RunOptions): Promise<void> {
  if (options.pcsc !== undefined && options.pcsc !== 'mock' && options.pcsc !== 'system') {
    throw new CliError('INVALID_PARAMS', `--pcsc attend « system » ou « mock » (reçu : ${options.pcsc}).`);
  }
  const port = options.port === undefined ? DEFAULT_AGENT_PORT : Number(options.port);
  let agent;
  try {
    agent = await startAgent({
      port: validPort(port),
      host: options.host ?? DEFAULT_AGENT_HOST,
      ...(options.config !== undefined ? { configDir: options.config } : {}),
      ...(options.stateDir !== undefined ? { stateDir: options.stateDir } : {}),
      ...(options.logLevel !== undefined ? { logLevel: options.logLevel } : {}),
      allowVirtualReaders: options.allowVirtualReaders === true,
      pinPerSignature: options.pinPerSignature === true,
      pcsc: options.pcsc === 'mock' ? 'mock' : 'system',
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new CliError('PORT_IN_USE', `Le port ${port} est déjà utilisé : un agent fonctionne peut-être déjà (cardbridge agent status).`);
    }
    throw new CliError('AGENT_START_FAILED', `L'agent n'a pas pu démarrer : ${(error as Error).message}`);
  }
  process.stderr.write(`Agent cardbridge à l'écoute sur ${agent.url} (console : cardbridge agent console). Ctrl+C pour l'arrêter.\n`);
  const running = agent;
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      void running.close().then(resolve);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

async function runAction(action: () => Promise<void>): Promise<void> {
  try {
    await action();
  } catch (error) {
    process.stderr.write(`Erreur : ${(error as Error).message}\n`);
    process.exitCode = error instanceof CliError ? error.exitCode : 1;
  }
}

// ---- registration ----------------------------------------------------------------------------

const PORT_HELP = `port de l'agent (défaut : ${DEFAULT_AGENT_PORT})`;
const CONFIG_HELP = 'répertoire du jeton local, de la clé de console et des appariements (défaut : $XDG_CONFIG_HOME/cardbridge, sinon ~/.config/cardbridge)';

export function registerAgentCommand(program: Command): void {
  const agent = program.command('agent').description("Agent local : serveur WebSocket des cartes pour les logiciels de santé et les sites appariés");

  agent
    .command('run', { isDefault: true })
    .description("Lance l'agent au premier plan (commande par défaut)")
    .option('--port <port>', PORT_HELP)
    .option('--host <adresse>', "adresse de bouclage d'écoute (127.0.0.1 ou ::1 ; jamais une interface réseau)")
    .option('--config <dir>', CONFIG_HELP)
    .option('--state-dir <dir>', "répertoire du journal d'audit (défaut : $CARDBRIDGE_STATE_DIR, sinon $XDG_STATE_HOME/cardbridge, sinon ~/.local/state/cardbridge)")
    .option('--log-level <niveau>', 'niveau de journalisation pino (fatal, error, warn, info, debug, trace)', 'info')
    .option('--allow-virtual-readers', 'accepter les lecteurs virtuels « Virtual PCD » (tests uniquement)')
    .option('--pin-per-signature', 'exiger le code porteur pour chaque signature')
    .option('--pcsc <mode>', 'system (pcscd) ou mock (lecteurs simulés, sans pcscd)', 'system')
    .action((options: RunOptions) => runAction(() => runAgent(options)));

  agent
    .command('install')
    .description("Installe l'agent comme service systemd de l'utilisateur et le démarre")
    .option('--port <port>', PORT_HELP)
    .option('--config <dir>', CONFIG_HELP)
    .option('--state-dir <dir>', "répertoire du journal d'audit")
    .option('--allow-virtual-readers', 'accepter les lecteurs virtuels (tests uniquement)')
    .option('--pin-per-signature', 'exiger le code porteur pour chaque signature')
    .option('--no-start', 'écrire le service sans le démarrer')
    .option('--json', 'sortie JSON')
    .action((options: InstallOptions & OutputOptions) => runCommand(options, async () => installService(options), (r) => r.message));

  agent
    .command('status')
    .description("État de l'agent : en marche ou non, lecteurs et cartes, sites appariés")
    .option('--port <port>', PORT_HELP)
    .option('--config <dir>', CONFIG_HELP)
    .option('--json', 'sortie JSON')
    .action((options: AgentTarget & OutputOptions) =>
      runCommand(
        options,
        async () => {
          const status = await agentStatus(options);
          if (!status.running) process.exitCode = EXIT_NOT_RUNNING;
          return status;
        },
        renderStatus,
      ),
    );

  agent
    .command('console')
    .description("Affiche l'adresse de la console de l'agent (approbation des appariements)")
    .option('--port <port>', PORT_HELP)
    .option('--config <dir>', CONFIG_HELP)
    .option('--json', 'sortie JSON')
    .action((options: AgentTarget & OutputOptions) =>
      runCommand(options, async () => consoleUrl(options), (r) => `${r.url}\n(adresse secrète : ne la partagez pas)`),
    );

  const pair = agent.command('pair').description('Sites web appariés avec l’agent');
  pair
    .command('list')
    .description('Liste les sites appariés et les demandes en attente')
    .option('--port <port>', PORT_HELP)
    .option('--config <dir>', CONFIG_HELP)
    .option('--json', 'sortie JSON')
    .action((options: AgentTarget & OutputOptions) =>
      runCommand(
        options,
        () => pairList(options),
        (r) => [renderPaired(r.paired), r.running ? renderPending(r.pending) : "(agent arrêté : pas de demande en attente)"].join('\n'),
      ),
    );
  pair
    .command('approve <code>')
    .description("Approuve la demande d'appariement qui porte ce code (affiche l'origine et les droits, puis demande confirmation)")
    .option('-y, --yes', 'approuver sans demander confirmation')
    .option('--port <port>', PORT_HELP)
    .option('--config <dir>', CONFIG_HELP)
    .option('--json', 'sortie JSON')
    .action((code: string, options: AgentTarget & OutputOptions & { yes?: boolean }) =>
      runCommand(options, () => pairApprove(code, options), (p) => `Site apparié : ${p.origin} (${p.scopes.join(', ')}).`),
    );
  pair
    .command('deny <code>')
    .description("Refuse la demande d'appariement qui porte ce code")
    .option('--port <port>', PORT_HELP)
    .option('--config <dir>', CONFIG_HELP)
    .option('--json', 'sortie JSON')
    .action((code: string, options: AgentTarget & OutputOptions) => runCommand(options, () => pairDeny(code, options), () => `Demande ${code} refusée.`));
  pair
    .command('revoke <origin>')
    .description("Révoque l'appariement d'un site (il perd tous ses droits)")
    .option('--port <port>', PORT_HELP)
    .option('--config <dir>', CONFIG_HELP)
    .option('--json', 'sortie JSON')
    .action((origin: string, options: AgentTarget & OutputOptions) =>
      runCommand(
        options,
        () => pairRevoke(origin, options),
        (r) => (r.revoked ? `Appariement révoqué : ${r.origin}.` : `${r.origin} n'était pas apparié.`),
      ),
    );
}
