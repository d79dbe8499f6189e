// `cardbridge demo` (`npm run demo`): everything a first look needs, in one process — the test
// PKI and its CRLs on loopback, the DMP service (SQLite in the state directory, seeded once with
// a few patients and signed documents) serving its two web pages, the agent, and the virtual
// cards of a consultation (the doctor's CPS3 and the DUPONT family's Vitale card): in pcscd's
// vpcd readers when pcscd runs, otherwise in the native pcsclite mock inside this process. It
// prints the addresses to open, and the portal's one-time passwords as the SMS gateway would
// send them. Ctrl+C stops everything.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { WebSocket } from 'ws';
import { createMockPcsc, defaultMockPcsc } from '../../../native-mocks/pcsclite/index.js';
import { createCardService } from '../../agent/cards/index.js';
import { startAgent, type RunningAgent } from '../../agent/daemon.js';
import { CONSOLE_PATH } from '../../agent/security/console-page.js';
import { loadConsoleKey, loadLocalToken } from '../../agent/security/local-secrets.js';
import { AgentClient } from '../../client/agent-client/index.js';
import { DmpClient } from '../../client/dmp-client/index.js';
import type { KeyProvider } from '../../dmp/crypto/index.js';
import { packageRoot, bundleDir } from '../../dmp/pages/assets.js';
import { openOutboxText } from '../../dmp/portal/index.js';
import { startDmpServer, type RunningDmpService } from '../../dmp/server.js';
import { startPublicationServer, DEFAULT_PUBLICATION_PORT, type PublicationServer } from '../../pki/publication-server.js';
import { defaultStateDir } from '../../pki/state-dir.js';
import { TestPki } from '../../pki/test-pki.js';
import { createPersonaCard } from '../../simulator/card-factory.js';
import { CPS_PERSONAS } from '../../simulator/personas.js';
import { VPCD_DEFAULT_PORT } from '../../simulator/vpcd/protocol.js';
import { loadPcsclite } from '../../transport/load-pcsclite.js';
import { DEFAULT_CONTROL_PORT, runSim } from './sim.js';

const PCSCD_SOCKET = '/run/pcscd/pcscd.comm';
const DEFAULT_DMP_PORT = 8443;
const DEFAULT_AGENT_PORT = 24820;
const DEMO_APP_ID = 'cardbridge-demo';
const INS_NIR_TEST_OID = '1.2.250.1.213.1.4.10';

interface DemoOptions {
  stateDir?: string;
  dmpPort: number;
  agentPort: number;
  crlPort: number;
  controlPort: number;
  pcsc: 'auto' | 'system' | 'mock';
  json?: boolean;
}

/** The patient whose portal access the seed activates: the Vitale card's spouse (own NIR). */
const SEED_PORTAL = { secretCode: 'Tournesol-2024!', phone: '+33600000001' } as const;

interface SeedPatient {
  readonly ins: { oid: string; value: string };
  readonly traits: { birthSurname: string; firstNames: string; birthDate: string; sex: 'M' | 'F'; birthplaceCode: string; usedSurname?: string };
  readonly documents: readonly { title: string; typeCode: string }[];
  readonly portal?: true;
}

const SEED_PATIENTS: readonly SeedPatient[] = [
  {
    ins: { oid: INS_NIR_TEST_OID, value: '280096912304532' },
    traits: { birthSurname: 'LEFEBVRE', firstNames: 'MARIE', birthDate: '1980-09-22', sex: 'F', birthplaceCode: '69123', usedSurname: 'DUPONT' },
    documents: [
      { title: 'Compte rendu de consultation du 12 mars', typeCode: '11488-4' },
      { title: 'Bilan sanguin', typeCode: '11502-2' },
      { title: 'Lettre de liaison de sortie (Hôpital Édouard-Herriot)', typeCode: '11490-0' },
    ],
    portal: true,
  },
  {
    ins: { oid: INS_NIR_TEST_OID, value: '285062A00407867' },
    traits: { birthSurname: 'SANTONI', firstNames: 'PAOLA', birthDate: '1985-06-10', sex: 'F', birthplaceCode: '2A004' },
    documents: [{ title: 'Vaccination antigrippale', typeCode: '87273-9' }],
  },
];

function parsePort(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) throw new InvalidArgumentError('port attendu : un entier de 0 à 65535 (0 = port libre)');
  return port;
}

/** A port free on 127.0.0.1 now (the DMP's own origin must be known before it listens). */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

/** Writes the pages' browser bundles afresh (the demo runs from the sources: they may have changed). */
async function buildPageBundles(say: (line: string) => void): Promise<void> {
  const script = join(packageRoot(), 'scripts', 'build-browser-bundle.ts');
  try {
    const module = (await import(pathToFileURL(script).href)) as { buildBrowserBundles: (outDir: string) => Promise<unknown> };
    await module.buildBrowserBundles(bundleDir());
  } catch (error) {
    say(`Bibliothèques du navigateur non reconstruites (${(error as Error).message}) : les pages utilisent celles de ${bundleDir()}`);
  }
}

/** pcscd with vpcd when it runs and pcsclite loads; else the native mock. */
async function chooseReaders(wanted: DemoOptions['pcsc']): Promise<'system' | 'mock'> {
  if (wanted !== 'auto') return wanted;
  if (!existsSync(PCSCD_SOCKET)) return 'mock';
  try {
    await loadPcsclite();
    return 'system';
  } catch {
    return 'mock';
  }
}

async function startDemoDmp(pki: TestPki, stateDir: string, port: number): Promise<{ service: RunningDmpService; dbFile: string }> {
  const dir = join(stateDir, 'dmp');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const ca of ['root', 'persons', 'organisations'] as const) await pki.crl(ca); // current CRL files
  const dbFile = join(dir, 'dmp.sqlite');
  for (let attempt = 1; ; attempt++) {
    const listenPort = port === 0 ? await freePort() : port;
    const url = `http://127.0.0.1:${listenPort}`;
    try {
      const service = await startDmpServer({
        db: `sqlite:${dbFile}`,
        host: '127.0.0.1',
        port: listenPort,
        publicUrl: url,
        // the pages' own origin (and its localhost spelling), and the demo's seeding software
        allowedOrigins: [url, `http://localhost:${listenPort}`, `app:${DEMO_APP_ID}`],
        trustAnchors: [pki.caCertificate('persons'), pki.caCertificate('organisations')],
        crlFiles: pki.describeCas().map((ca) => ca.files.crlDer),
        crlDistributionPoints: false,
        masterKeyFile: join(dir, 'master.key'),
        logger: false,
      });
      return { service, dbFile };
    } catch (error) {
      if (port === 0 && (error as NodeJS.ErrnoException).code === 'EADDRINUSE' && attempt < 5) continue;
      throw error;
    }
  }
}

/**
 * The seed, once per state directory: the doctor's virtual CPS in a private in-process reader,
 * a private agent, and the DMP client as desktop software — so the patients are created and the
 * documents signed exactly as a practice's software would do it.
 */
async function seed(pki: TestPki, stateDir: string, serviceUrl: string, say: (line: string) => void): Promise<void> {
  const marker = join(stateDir, 'dmp', 'demo-seed.json');
  if (existsSync(marker)) return;
  say('Premier lancement : création de patients et de documents de démonstration…');
  const mock = createMockPcsc({ readers: ['Lecteur de préparation'] });
  mock.insertCard('Lecteur de préparation', await createPersonaCard('cps:medecin', { pki }));
  const seedDir = join(stateDir, 'dmp', 'seed-agent');
  let origin = 'http://127.0.0.1';
  const cardService = createCardService({ pcsc: mock.pcsclite, allowVirtualReaders: false, agentBaseUrl: () => origin, appVersion: 'demo', env: {} });
  await cardService.whenReady();
  const agent = await startAgent({ port: 0, configDir: join(seedDir, 'config'), stateDir: join(seedDir, 'state'), logDestination: join(seedDir, 'agent.log'), cardService });
  origin = `http://127.0.0.1:${agent.port}`;
  const client = await AgentClient.connect({ url: agent.url, WebSocket: WebSocket as never, token: loadLocalToken(join(seedDir, 'config')).reveal(), appId: DEMO_APP_ID });
  try {
    await client.cps.verifyPin({ method: 'value', pin: CPS_PERSONAS['cps:medecin'].pin });
    const dmp = new DmpClient({ baseUrl: serviceUrl, agent: client });
    await dmp.login();
    const summary: Record<string, unknown>[] = [];
    for (const patient of SEED_PATIENTS) {
      const created = await dmp.createPatient({ ins: patient.ins, traits: patient.traits, consent: true });
      for (const d of patient.documents) {
        await dmp.sendPdf({ ins: patient.ins, pdf: demoPdf(`${d.title} — ${patient.traits.firstNames} ${patient.traits.birthSurname}`), title: d.title, typeCode: d.typeCode, patient: patient.traits });
      }
      if (patient.portal) {
        const response = await fetch(`${serviceUrl}/v1/portal/activate`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ ins: patient.ins, activationCode: created.activationCode, secretCode: SEED_PORTAL.secretCode, contact: { kind: 'sms', value: SEED_PORTAL.phone } }),
        });
        if (!response.ok) throw new Error(`activation du portail : HTTP ${response.status} ${await response.text()}`);
      }
      summary.push({ ins: patient.ins, name: `${patient.traits.firstNames} ${patient.traits.usedSurname ?? patient.traits.birthSurname}`, documents: patient.documents.length, portal: patient.portal === true });
    }
    await dmp.logout();
    writeFileSync(marker, `${JSON.stringify({ seededAt: new Date().toISOString(), patients: summary }, null, 2)}\n`, { mode: 0o600 });
  } finally {
    await client.close();
    await agent.close();
  }
}

/** A one-page PDF saying `text` (enough for a reader to open). */
function demoPdf(text: string): Uint8Array {
  const safe = text.normalize('NFD').replace(/[^\x20-\x7e]/g, '').replace(/[()\\]/g, '');
  const stream = `BT /F1 14 Tf 60 760 Td (${safe}) Tj ET`;
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>',
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
    `<< /Length ${stream.length} >>\nstream\n${stream}\nendstream`,
  ];
  let body = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((object, i) => {
    offsets.push(body.length);
    body += `${i + 1} 0 obj\n${object}\nendobj\n`;
  });
  const xref = body.length;
  body += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('')}`;
  body += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return new TextEncoder().encode(body);
}

/**
 * The stand-in for the SMS / e-mail gateway: every new message of the service's outbox (read
 * from its SQLite file) is opened with the master key and printed here.
 */
function printOutbox(dbFile: string, keyProvider: KeyProvider, show: (message: { kind: string; recipient: string; text: string }) => void): () => void {
  const db = new Database(dbFile, { readonly: true, fileMustExist: true });
  const seen = new Set<string>();
  let since = Date.now() - 60_000;
  const poll = async (): Promise<void> => {
    const rows = db
      .prepare("SELECT id, kind, recipient, payload, created_at AS createdAt FROM outbox WHERE kind IN ('sms', 'email') AND created_at >= ? ORDER BY created_at, id")
      .all(since) as { id: string; kind: string; recipient: string; payload: string; createdAt: number }[];
    for (const row of rows) {
      if (seen.has(row.id)) continue;
      seen.add(row.id);
      since = Math.max(since, row.createdAt - 1000);
      try {
        show({ kind: row.kind, recipient: row.recipient, text: await openOutboxText(row, keyProvider) });
      } catch {
        // a message without sealed text (notifications): nothing to show
      }
    }
  };
  const timer = setInterval(() => void poll().catch(() => {}), 1000);
  return () => {
    clearInterval(timer);
    db.close();
  };
}

async function startDemoAgent(pki: TestPki, stateDir: string, port: number, readers: 'system' | 'mock'): Promise<RunningAgent> {
  const dir = join(stateDir, 'agent');
  const common = { port, configDir: join(dir, 'config'), stateDir: join(dir, 'state'), logDestination: join(dir, 'agent.log') };
  if (readers === 'system') return startAgent({ ...common, pcsc: 'system', allowVirtualReaders: true });
  // the native mock's shared machine, which the agent's `pcsc: 'mock'` uses
  defaultMockPcsc.addReader('Lecteur CPS (démo)');
  defaultMockPcsc.addReader('Lecteur Vitale (démo)');
  defaultMockPcsc.insertCard('Lecteur CPS (démo)', await createPersonaCard('cps:medecin', { pki }));
  defaultMockPcsc.insertCard('Lecteur Vitale (démo)', await createPersonaCard('vitale:famille', { pki }));
  return startAgent({ ...common, pcsc: 'mock' });
}

function waitForSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve(signal);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

async function runDemo(options: DemoOptions, command: Command): Promise<void> {
  const say = (line: string): void => {
    if (!options.json) process.stdout.write(`${line}\n`);
  };
  const event = (name: string, fields: Record<string, unknown>): void => {
    if (options.json) process.stdout.write(`${JSON.stringify({ event: name, ...fields })}\n`);
  };
  const stateDir = options.stateDir ?? defaultStateDir();
  const pki = await TestPki.open(stateDir);
  say(`PKI de test (${pki.created ? 'créée' : 'reprise'}) dans ${stateDir}`);
  for (const ca of pki.describeCas()) say(`  ${ca.subject}`);
  let crls: PublicationServer | undefined;
  try {
    crls = await startPublicationServer(pki, { port: options.crlPort });
    say(`LCR publiées : ${crls.url}/crl/<ac>.crl`);
  } catch (error) {
    say(`LCR non publiées (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}) : un autre « cardbridge pki serve » tourne peut-être déjà`);
  }

  const readers = await chooseReaders(options.pcsc);
  if (readers === 'system' && !existsSync(PCSCD_SOCKET)) {
    await crls?.close();
    command.error('pcscd ne tourne pas : --pcsc system impossible (démarrez-le : sudo scripts/start-pcscd.sh), ou --pcsc mock.', { exitCode: 1 });
  }

  await buildPageBundles(say);
  let dmp: Awaited<ReturnType<typeof startDemoDmp>>;
  try {
    dmp = await startDemoDmp(pki, stateDir, options.dmpPort);
  } catch (error) {
    await crls?.close();
    const busy = (error as NodeJS.ErrnoException).code === 'EADDRINUSE';
    command.error(busy ? `Le port ${options.dmpPort} du service DMP est déjà utilisé (--dmp-port 0 pour un port libre)` : `Service DMP : ${(error as Error).message}`, { exitCode: 1 });
  }
  const service = dmp.service;
  let agent: RunningAgent | undefined;
  let stopOutbox: (() => void) | undefined;
  const stopAll = async (): Promise<void> => {
    stopOutbox?.();
    await agent?.close();
    await service.stop();
    await crls?.close();
  };
  try {
    await seed(pki, stateDir, service.url, say);
    agent = await startDemoAgent(pki, stateDir, options.agentPort, readers);
    stopOutbox = printOutbox(dmp.dbFile, service.app.dmp.keyProvider as KeyProvider, (m) => {
      say(`${m.kind === 'sms' ? 'SMS' : 'Courriel'} pour ${m.recipient} : « ${m.text} »`);
      event('outbox', m);
    });
  } catch (error) {
    await stopAll();
    command.error(`Démarrage de la démonstration impossible : ${(error as Error).message}`, { exitCode: 1 });
  }

  const agentHttp = `http://127.0.0.1:${agent.port}`;
  const consoleUrl = `${agentHttp}${CONSOLE_PATH}?k=${encodeURIComponent(loadConsoleKey(join(stateDir, 'agent', 'config')).reveal())}`;
  const urls = {
    practitioner: `${service.url}/praticien?agent=${encodeURIComponent(agent.url)}`,
    portal: `${service.url}/portail`,
    console: consoleUrl,
    dmp: service.url,
    agent: agent.url,
  };
  const seedInfo = existsSync(join(stateDir, 'dmp', 'demo-seed.json')) ? (JSON.parse(readFileSync(join(stateDir, 'dmp', 'demo-seed.json'), 'utf8')) as unknown) : null;
  say('');
  say(`Service DMP : ${service.url} (base ${dmp.dbFile}, OpenAPI : ${service.url}/openapi.json)`);
  say(`Agent : ${agent.url} — ${readers === 'system' ? 'lecteurs vpcd de pcscd' : 'lecteurs simulés dans ce processus (sans pcscd)'} : CPS du Dr SOPHIE MARTIN (PIN ${CPS_PERSONAS['cps:medecin'].pin}), carte Vitale de la famille DUPONT`);
  say('');
  say('Ouvrez :');
  say(`  Page du praticien : ${urls.practitioner}`);
  say(`  Console de l’agent (approuver l’appariement de la page) : ${urls.console}`);
  say(`  Portail patient : ${urls.portal}`);
  say(`    patiente de démonstration : MARIE DUPONT, INS-NIR de test 280096912304532, code secret ${SEED_PORTAL.secretCode} ;`);
  say('    les codes à usage unique « envoyés par SMS » s’affichent ici.');
  say('  Jean DUPONT (carte Vitale) n’a pas encore de DMP : créez-le depuis la page du praticien, le code d’activation s’y affiche.');
  say('Ctrl+C pour tout arrêter.');
  event('ready', { urls, readers, stateDir, seed: seedInfo, portal: { ins: SEED_PATIENTS[0]?.ins, secretCode: SEED_PORTAL.secretCode } });

  if (readers === 'system') {
    say('Lecteurs « Virtual PCD 00 00 » (CPS) et « Virtual PCD 00 01 » (Vitale) ; essayez aussi : opensc-tool --list-readers');
    // runs until SIGINT/SIGTERM (its own handler), then we stop the rest
    await runSim(
      {
        slot: [
          { slot: 0, card: 'cps:medecin' },
          { slot: 1, card: 'vitale:famille' },
        ],
        controlPort: options.controlPort,
        vpcdHost: '127.0.0.1',
        vpcdPort: VPCD_DEFAULT_PORT,
        stateDir,
        ...(options.json ? { json: true } : {}),
      },
      command,
    );
  } else {
    await waitForSignal();
  }
  say('Arrêt de la démonstration…');
  await stopAll();
  event('stopped', {});
}

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description(
      'Démonstration : PKI de test, LCR, service DMP (pages praticien et patient, données de démonstration), agent, CPS et carte Vitale virtuelles (Ctrl+C pour arrêter)',
    )
    .option('--state-dir <dir>', "répertoire d'état (PKI, clés, base du DMP, agent de démonstration, état des cartes)")
    .option('--dmp-port <port>', `port du service DMP (défaut : ${DEFAULT_DMP_PORT} ; 0 = port libre)`, parsePort, DEFAULT_DMP_PORT)
    .option('--agent-port <port>', `port de l'agent (défaut : ${DEFAULT_AGENT_PORT} ; 0 = port libre)`, parsePort, DEFAULT_AGENT_PORT)
    .option('--crl-port <port>', `port de publication des LCR (défaut : ${DEFAULT_PUBLICATION_PORT} ; 0 = port libre)`, parsePort, DEFAULT_PUBLICATION_PORT)
    .option('--control-port <port>', `port de l'API de contrôle des cartes vpcd (défaut : ${DEFAULT_CONTROL_PORT})`, parsePort, DEFAULT_CONTROL_PORT)
    .addOption(new Option('--pcsc <lecteurs>', 'lecteurs : pcscd + vpcd (system), simulés dans le processus (mock), ou selon pcscd (auto)').choices(['auto', 'system', 'mock']).default('auto'))
    .option('--json', 'événements (prêt avec les adresses, arrêt) en lignes JSON')
    .action(async (options: DemoOptions, command: Command) => {
      await runDemo(options, command);
    });
}
