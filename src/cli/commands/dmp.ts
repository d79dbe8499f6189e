// `cardbridge dmp`: runs the DMP service (dmp-service.md) until SIGINT/SIGTERM, and
// `cardbridge dmp verify-traces`: checks every hash-chained trace of a DMP database.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import pino from 'pino';
import { DmpConfigError, DEFAULT_PORT, loadDmpConfig, type DmpCommandOptions } from '../../dmp/config.js';
import { startDmpServer } from '../../dmp/server.js';
import { describeDatabase, openDmpStore, parseDatabaseLocation, verifyStoredTraces } from '../../dmp/store/index.js';
import { defaultStateDir } from '../../pki/state-dir.js';
import { TestPki } from '../../pki/test-pki.js';

const STATE_DIR_HELP =
  "répertoire d'état (défaut : $CARDBRIDGE_STATE_DIR, sinon $XDG_STATE_HOME/cardbridge, sinon ~/.local/state/cardbridge)";

function parsePort(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) throw new InvalidArgumentError('port attendu : un entier de 0 à 65535');
  return port;
}

function parseMinutes(value: string): number {
  const minutes = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || minutes <= 0) throw new InvalidArgumentError('nombre de minutes positif attendu');
  return minutes;
}

function parseDb(value: string): string {
  try {
    parseDatabaseLocation(value);
  } catch {
    throw new InvalidArgumentError('base attendue : sqlite:<fichier> ou postgres://…');
  }
  return value;
}

/** `--allowed-origins a,b --allowed-origins c` -> [a, b, c] */
function collectList(value: string, previous: string[]): string[] {
  return [...previous, ...value.split(',').map((v) => v.trim()).filter((v) => v !== '')];
}

function defaultDb(stateDir: string): string {
  const directory = join(stateDir, 'dmp');
  mkdirSync(directory, { recursive: true, mode: 0o700 });
  return `sqlite:${join(directory, 'dmp.sqlite')}`;
}

interface RunOptions {
  db?: string;
  port: number;
  host: string;
  publicUrl?: string;
  trustAnchors: string[];
  intermediates: string[];
  crl: string[];
  crlFetch: boolean;
  testPki?: boolean;
  allowedOrigins: string[];
  masterKey?: string;
  tlsCert?: string;
  tlsKey?: string;
  sessionIdleMinutes: number;
  stateDir?: string;
  logLevel: string;
  json?: boolean;
}

async function run(options: RunOptions, command: Command): Promise<void> {
  const event = (name: string, fields: Record<string, unknown>, french: string): void => {
    process.stdout.write(`${options.json ? JSON.stringify({ event: name, ...fields }) : french}\n`);
  };
  const stateDir = options.stateDir ?? defaultStateDir();
  const trustAnchors = [...options.trustAnchors];
  const crl = [...options.crl];
  if (options.testPki) {
    let pki: TestPki;
    try {
      pki = await TestPki.open(stateDir);
    } catch (error) {
      command.error(`Impossible d'ouvrir la PKI de test dans ${stateDir} : ${(error as Error).message}`, { exitCode: 1 });
    }
    for (const ca of ['persons', 'organisations'] as const) await pki.crl(ca); // current CRL files
    for (const ca of pki.describeCas()) {
      if (ca.id !== 'root') trustAnchors.push(ca.files.certificateDer);
      crl.push(ca.files.crlDer);
    }
  }
  if (trustAnchors.length === 0) {
    command.error('Aucune ancre de confiance : --trust-anchors <fichiers PEM/DER> (ou --test-pki pour la PKI de test)', { exitCode: 2 });
  }
  const db = options.db ?? defaultDb(stateDir);
  const cli: DmpCommandOptions = {
    db,
    port: options.port,
    host: options.host,
    ...(options.publicUrl === undefined ? {} : { publicUrl: options.publicUrl }),
    trustAnchors,
    intermediates: options.intermediates,
    crl,
    crlFetch: options.crlFetch,
    allowedOrigins: options.allowedOrigins,
    masterKey: options.masterKey ?? join(stateDir, 'dmp', 'master.key'),
    ...(options.tlsCert === undefined ? {} : { tlsCert: options.tlsCert }),
    ...(options.tlsKey === undefined ? {} : { tlsKey: options.tlsKey }),
    sessionIdleMinutes: options.sessionIdleMinutes,
  };
  let service;
  try {
    const config = loadDmpConfig(cli, { logger: { level: options.logLevel, stream: pino.destination(2) } });
    service = await startDmpServer(config);
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    const message =
      e.code === 'EADDRINUSE'
        ? `Le port ${options.port} est déjà utilisé (--port 0 pour un port libre)`
        : error instanceof DmpConfigError
          ? error.message
          : `Démarrage impossible : ${e.message}`;
    command.error(message, { exitCode: 1 });
  }
  if (options.allowedOrigins.length === 0) {
    process.stderr.write("Attention : aucune origine autorisée (--allowed-origins) : aucune connexion par carte CPS ne pourra aboutir.\n");
  }
  event(
    'ready',
    { url: service.url, port: service.port, db: describeDatabase(db) },
    `Service DMP prêt : ${service.url} (base ${describeDatabase(db)}, OpenAPI : ${service.url}/openapi.json)`,
  );

  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals): void => {
      if (stopping) process.exit(130); // second signal: do not wait any longer
      stopping = true;
      event('stopping', { signal }, `Arrêt du service DMP (${signal})…`);
      void service.stop().then(() => {
        event('stopped', {}, 'Service DMP arrêté.');
        resolve();
      });
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

interface VerifyOptions {
  db?: string;
  stateDir?: string;
  json?: boolean;
}

async function verifyTraces(options: VerifyOptions, command: Command): Promise<void> {
  const db = options.db ?? `sqlite:${join(options.stateDir ?? defaultStateDir(), 'dmp', 'dmp.sqlite')}`;
  const location = parseDatabaseLocation(db);
  if (location.dialect === 'sqlite' && !existsSync(location.file)) {
    command.error(`Base introuvable : ${location.file}`, { exitCode: 2 });
  }
  let store;
  try {
    store = await openDmpStore(db, { migrate: false });
  } catch (error) {
    command.error(`Ouverture de la base ${describeDatabase(db)} impossible : ${(error as Error).message}`, { exitCode: 2 });
  }
  let result;
  try {
    result = await verifyStoredTraces(store);
  } catch (error) {
    await store.close();
    command.error(`Lecture des traces impossible : ${(error as Error).message}`, { exitCode: 2 });
  }
  await store.close();
  if (options.json) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } else if (result.ok) {
    process.stdout.write(`Traces intègres : ${result.chains} chaîne(s), ${result.entries} entrée(s) vérifiée(s).\n`);
  } else {
    process.stdout.write(
      `Chaîne de traces rompue : ${result.chain}, entrée n° ${result.seq} — ${result.reason}\n` +
        `(${result.chains - 1} chaîne(s) intègre(s) vérifiée(s) avant elle)\n`,
    );
  }
  if (!result.ok) process.exitCode = 1;
}

export function registerDmpCommand(program: Command): void {
  const dmp = program
    .command('dmp')
    .description('Service DMP (dossier médical partagé) : connexion des professionnels par carte CPS, API /v1, OpenAPI sur /openapi.json')
    .option('--db <url>', 'base : sqlite:<fichier> ou postgres://… (défaut : sqlite dans le répertoire d\'état)', parseDb)
    .option('--port <port>', `port d'écoute (défaut : ${DEFAULT_PORT} ; 0 = port libre)`, parsePort, DEFAULT_PORT)
    .option('--host <hôte>', "interface d'écoute ; sans TLS, boucle locale uniquement", '127.0.0.1')
    .option('--public-url <url>', 'URL publique du service (base des preuves DPoP htu ; défaut : adresse d\'écoute)')
    .option('--trust-anchors <fichiers...>', "certificats des autorités de confiance (PEM ou DER)", [])
    .option('--intermediates <fichiers...>', 'certificats intermédiaires (non de confiance par eux-mêmes)', [])
    .option('--crl <fichiers...>', 'listes de révocation (DER ou PEM), relues quand elles changent', [])
    .option('--no-crl-fetch', 'ne pas télécharger les CRL depuis les points de distribution des certificats')
    .option('--test-pki', "ancres, CRL : celles de la PKI de test du répertoire d'état (essais)")
    .option('--allowed-origins <origines>', 'origines autorisées (jetons et CORS), séparées par des virgules, répétable', collectList, [])
    .option('--master-key <fichier>', "clé maîtresse des documents (32 octets, créée en 0600 si absente ; défaut : dans le répertoire d'état)")
    .option('--tls-cert <fichier>', 'certificat TLS (PEM) : sert en HTTPS')
    .option('--tls-key <fichier>', 'clé privée TLS (PEM)')
    .option('--session-idle-minutes <minutes>', "fin d'une session après cette inactivité", parseMinutes, 30)
    .option('--state-dir <dir>', STATE_DIR_HELP)
    .option('--log-level <niveau>', 'niveau des journaux JSON (sur la sortie d\'erreur)', 'info')
    .option('--json', 'événements (prêt, arrêt) en lignes JSON')
    .action(async (options: RunOptions, command: Command) => {
      await run(options, command);
    });

  dmp
    .command('verify-traces')
    .description('Vérifie toutes les chaînes de traces (hachage, enchaînement, têtes enregistrées) ; code 1 à la première chaîne rompue')
    .option('--db <url>', 'base : sqlite:<fichier> ou postgres://… (défaut : sqlite dans le répertoire d\'état)', parseDb)
    .option('--state-dir <dir>', STATE_DIR_HELP)
    .option('--json', 'résultat en JSON')
    .action(async (_options: VerifyOptions, command: Command) => {
      // `dmp verify-traces --db …`: commander may hand --db, --state-dir, --json to `dmp` itself
      await verifyTraces(command.optsWithGlobals<VerifyOptions>(), command);
    });
}
