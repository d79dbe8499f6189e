// `startAgent`: the agent daemon put together — config directory secrets (local token, console
// key), pairing store, audit log, pino logger, the card service, and the loopback server.
import type { DestinationStream, Logger } from 'pino';
import { createAgentLogger } from './audit/logger.js';
import { AuditLog } from './audit/audit-log.js';
import type { CardService } from './caller.js';
import { agentVersion, DEFAULT_AGENT_HOST, DEFAULT_AGENT_PORT, defaultAgentStateDir, defaultConfigDir, loopbackBindAddress, validPort } from './config.js';
import { startAgentServer } from './server/agent-server.js';
import type { FloodLimits } from './server/connection.js';
import { loadConsoleKey, loadLocalToken } from './security/local-secrets.js';
import { PairingStore, type PairingChange } from './security/pairing-store.js';
import { createPeerUidCheck, type PeerCheck } from './security/peer-uid.js';
import { describeScopesFr } from './security/scope-labels.js';
import type { PcscProvider } from '../transport/pcsc-types.js';
import { createCardService } from './cards/index.js';

export interface StartAgentOptions {
  /** Default 24820; 0 picks a free port. */
  readonly port?: number;
  /** Loopback address to bind (127.0.0.0/8 or ::1); anything else is refused. Default 127.0.0.1. */
  readonly host?: string;
  /** Token, console key and pairings; default $XDG_CONFIG_HOME/cardbridge or ~/.config/cardbridge. */
  readonly configDir?: string;
  /** Audit log; default $CARDBRIDGE_STATE_DIR, $XDG_STATE_HOME/cardbridge or ~/.local/state/cardbridge. */
  readonly stateDir?: string;
  readonly logLevel?: string;
  /** pino destination or a file path; default stderr. Ignored when `logger` is given. */
  readonly logDestination?: DestinationStream | string;
  readonly logger?: Logger;
  readonly allowVirtualReaders?: boolean;
  readonly pinPerSignature?: boolean;
  /** 'mock': the native pcsclite mock (no pcscd needed); default the system's pcscd. */
  readonly pcsc?: 'system' | 'mock';
  /** The card side; default the real one (createCardService in ./cards/index.ts). */
  readonly cardService?: CardService;
  /** Peer check of every TCP connection; default the /proc/net UID check (Linux only). */
  readonly peerCheck?: PeerCheck;
  readonly floodLimits?: Partial<FloodLimits>;
  /** Clock for pairing expiry and per-minute limits. */
  readonly now?: () => number;
}

export interface RunningAgent {
  /** `ws://127.0.0.1:<port>/v1` */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** What the agent hands the card side when it builds it. */
export interface CardServiceWiring {
  readonly allowVirtualReaders: boolean;
  readonly pinPerSignature: boolean;
  /** The pcsclite factory to use (the native mock with `--pcsc mock`); undefined = the real module. */
  readonly pcsc?: PcscProvider;
  readonly logger: Logger;
  readonly version: string;
  /** The agent's own HTTP origin (`http://127.0.0.1:<port>`), known once it listens: PIN page URLs start with it. */
  readonly httpOrigin: () => string;
  /** Audit lines of card operations (PIN entries, private-key uses), written to the agent's audit log. */
  readonly audit: (entry: CardOperationAudit) => void;
}

/** What the card service reports of one card operation (never a PIN, a hash or an output). */
export interface CardOperationAudit {
  readonly operation: string;
  readonly method?: 'page' | 'pinpad' | 'value';
  readonly origin: string;
  readonly reader: string;
  readonly cardSerial: string | null;
  /** `ok` or the protocol error code. */
  readonly outcome: string;
}

export async function startAgent(options: StartAgentOptions = {}): Promise<RunningAgent> {
  const host = loopbackBindAddress(options.host ?? DEFAULT_AGENT_HOST);
  const port = validPort(options.port ?? DEFAULT_AGENT_PORT);
  const configDir = options.configDir ?? defaultConfigDir();
  const stateDir = options.stateDir ?? defaultAgentStateDir();
  const logger = options.logger ?? createAgentLogger({ ...(options.logLevel ? { level: options.logLevel } : {}), ...(options.logDestination ? { destination: options.logDestination } : {}) });
  const version = agentVersion();
  const peerCheck = options.peerCheck ?? defaultPeerCheck();

  const token = loadLocalToken(configDir);
  const consoleKey = loadConsoleKey(configDir);
  const pairings = PairingStore.inConfigDir(configDir, options.now ? { now: options.now } : {});
  const audit = AuditLog.inStateDir(stateDir, options.now);
  pairings.onChange((change) => reportPairingChange(change, logger, audit));

  let httpOrigin = '';
  let cardService: CardService | undefined;
  try {
    cardService =
      options.cardService ??
      createRealCardService({
        allowVirtualReaders: options.allowVirtualReaders === true,
        pinPerSignature: options.pinPerSignature === true,
        ...(options.pcsc === 'mock' ? { pcsc: await loadMockPcsc() } : {}),
        logger: logger.child({ part: 'cartes' }),
        version,
        httpOrigin: () => httpOrigin,
        audit: (entry) =>
          audit.record({
            event: 'card.operation',
            method: entry.operation,
            origin: entry.origin,
            reader: entry.reader,
            cardSerial: entry.cardSerial ?? undefined,
            pinEntry: entry.method,
            outcome: entry.outcome === 'ok' ? 'ok' : 'error',
            errorCode: entry.outcome === 'ok' ? undefined : entry.outcome,
          }),
      });
    const server = await startAgentServer({
      host,
      port,
      cardService,
      pairings,
      token,
      consoleKey,
      audit,
      logger,
      version,
      peerCheck,
      ...(options.floodLimits ? { floodLimits: options.floodLimits } : {}),
      ...(options.now ? { now: options.now } : {}),
    });
    httpOrigin = `http://${server.url.slice('ws://'.length, -'/v1'.length)}`;
    const service = cardService;
    let closing: Promise<void> | undefined;
    return {
      url: server.url,
      port: server.port,
      close() {
        closing ??= (async () => {
          await server.close();
          await service.close().catch((error: unknown) => logger.error({ err: (error as Error)?.name }, 'arrêt du service des cartes'));
          await audit.close();
          logger.info("agent arrêté");
          logger.flush?.();
        })();
        return closing;
      },
    };
  } catch (error) {
    await cardService?.close().catch(() => {});
    await audit.close();
    throw error;
  }
}

function defaultPeerCheck(): PeerCheck {
  if (process.platform !== 'linux') {
    throw new Error(
      "L'agent ne sait vérifier l'utilisateur d'une connexion que sous Linux (/proc/net/tcp) : ce système n'est pas encore pris en charge.",
    );
  }
  return createPeerUidCheck();
}

function reportPairingChange(change: PairingChange, logger: Logger, audit: AuditLog): void {
  switch (change.type) {
    case 'requested': {
      const { code, origin, scopes } = change.pending;
      logger.info(
        { pairing: { code, origin, scopes } },
        `Demande d'appariement : code ${code}, origine ${origin}, droits ${describeScopesFr(scopes)}. Approuvez-la dans la console ou avec « cardbridge agent pair approve ${code} ».`,
      );
      audit.record({ event: 'pairing.requested', origin, scopes, pairingCode: code });
      return;
    }
    case 'approved':
      logger.info({ pairing: { origin: change.paired.origin, scopes: change.paired.scopes, actor: change.actor } }, `Origine appariée : ${change.paired.origin}`);
      audit.record({ event: 'pairing.approved', origin: change.paired.origin, scopes: change.paired.scopes, actor: change.actor });
      return;
    case 'denied':
      logger.info({ pairing: { origin: change.pending.origin, code: change.pending.code, actor: change.actor } }, `Demande d'appariement refusée : ${change.pending.origin}`);
      audit.record({ event: 'pairing.denied', origin: change.pending.origin, pairingCode: change.pending.code, actor: change.actor });
      return;
    case 'revoked':
      logger.info({ pairing: { origin: change.origin, actor: change.actor } }, `Appariement révoqué : ${change.origin}`);
      audit.record({ event: 'pairing.revoked', origin: change.origin, actor: change.actor });
  }
}

async function loadMockPcsc(): Promise<PcscProvider> {
  const mock = await import('../../native-mocks/pcsclite/index.js');
  return mock.default as unknown as PcscProvider;
}

/** The real card side (src/agent/cards), built with what the agent knows; typed against its options. */
function createRealCardService(wiring: CardServiceWiring): CardService {
  return createCardService(wiring);
}

export { DEFAULT_AGENT_PORT };
