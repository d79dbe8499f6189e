// `cardbridge pki init|serve`: creates (or opens) the test PKI in the state directory, and serves
// its CRLs and CA certificates on the loopback interface at the URLs written in certificates.
import { InvalidArgumentError, type Command } from 'commander';
import { CA_DEFINITIONS } from '../../pki/hierarchy.js';
import {
  DEFAULT_PUBLICATION_HOST,
  DEFAULT_PUBLICATION_PORT,
  isLoopbackHost,
  startPublicationServer,
} from '../../pki/publication-server.js';
import { defaultStateDir } from '../../pki/state-dir.js';
import { TestPki } from '../../pki/test-pki.js';

const STATE_DIR_HELP =
  "répertoire d'état (défaut : $CARDBRIDGE_STATE_DIR, sinon $XDG_STATE_HOME/cardbridge, sinon ~/.local/state/cardbridge)";

function parsePort(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) throw new InvalidArgumentError('port attendu : un entier de 0 à 65535');
  return port;
}

function write(text: string): void {
  process.stdout.write(text);
}

interface InitOptions {
  stateDir?: string;
  crlBaseUrl?: string;
  json?: boolean;
}

async function init(options: InitOptions, command: Command): Promise<void> {
  const stateDir = options.stateDir ?? defaultStateDir();
  let pki: TestPki;
  try {
    pki = await TestPki.open(stateDir, options.crlBaseUrl === undefined ? {} : { crlBaseUrl: options.crlBaseUrl });
  } catch (error) {
    command.error(`Impossible d'ouvrir la PKI de test dans ${stateDir} : ${(error as Error).message}`, { exitCode: 1 });
  }
  const cas = pki.describeCas();
  if (options.json) {
    write(
      `${JSON.stringify(
        { stateDir: pki.stateDir, directory: pki.directory, created: pki.created, crlBaseUrl: pki.crlBaseUrl, cas },
        null,
        2,
      )}\n`,
    );
    return;
  }
  const lines = [
    pki.created ? `PKI de test créée dans ${pki.directory}` : `PKI de test existante ouverte dans ${pki.directory}`,
    'Autorités de certification de TEST (forme IGC-Santé ; ne jamais les installer comme autorités de confiance ailleurs que pour des essais) :',
  ];
  for (const ca of cas) {
    lines.push(
      `  • ${ca.subject} — ${CA_DEFINITIONS[ca.id].descriptionFr}`,
      `      certificat : ${ca.files.certificatePem} (PEM), ${ca.files.certificateDer} (DER)`,
      `      clé privée : ${ca.files.privateKeyPem}`,
      `      LCR : ${ca.files.crlDer} ; publiée à ${ca.crlUrl}`,
    );
  }
  lines.push(`Pour publier les LCR : cardbridge pki serve --state-dir ${pki.stateDir}`);
  write(`${lines.join('\n')}\n`);
}

interface ServeOptions {
  stateDir?: string;
  port: number;
  host: string;
}

async function serve(options: ServeOptions, command: Command): Promise<void> {
  if (!isLoopbackHost(options.host)) {
    command.error(`Adresse refusée : ${options.host}. Le service des LCR écoute uniquement sur la boucle locale (127.0.0.1, ::1).`, {
      exitCode: 1,
    });
  }
  const stateDir = options.stateDir ?? defaultStateDir();
  const pki = await TestPki.open(stateDir);
  let server;
  try {
    server = await startPublicationServer(pki, { host: options.host, port: options.port });
  } catch (error) {
    command.error(`Impossible d'écouter sur ${options.host}:${options.port} : ${(error as Error).message}`, { exitCode: 1 });
  }
  const lines = [`LCR et certificats d'AC de la PKI de test publiés sur ${server.url} (Ctrl+C pour arrêter)`];
  for (const ca of pki.describeCas()) {
    lines.push(`  ${server.url}/crl/${ca.slug}.crl`, `  ${server.url}/ca/${ca.slug}.cer`);
  }
  const announced = new URL(pki.crlBaseUrl);
  const announcedPort = Number(announced.port || (announced.protocol === 'https:' ? 443 : 80));
  if (announcedPort !== server.port) {
    lines.push(`Attention : les certificats de cette PKI annoncent leurs LCR sous ${pki.crlBaseUrl}, pas sur ce port.`);
  }
  write(`${lines.join('\n')}\n`);

  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await server.close();
  write('Service des LCR arrêté.\n');
}

export function registerPkiCommand(program: Command): void {
  const pki = program
    .command('pki')
    .description('PKI de test (forme IGC-Santé, marquée TEST) : création, publication des LCR');

  pki
    .command('init')
    .description("Crée la PKI de test (racine et deux AC intermédiaires) ou ouvre celle du répertoire d'état")
    .option('--state-dir <dir>', STATE_DIR_HELP)
    .option('--crl-base-url <url>', 'base des URL de LCR écrites dans les certificats (à la création)')
    .option('--json', 'sortie JSON pour les scripts')
    .action(init);

  pki
    .command('serve')
    .description('Publie les LCR et les certificats des AC en HTTP sur la boucle locale')
    .option('--state-dir <dir>', STATE_DIR_HELP)
    .option('--port <port>', 'port TCP', parsePort, DEFAULT_PUBLICATION_PORT)
    .option('--host <host>', "adresse d'écoute (boucle locale uniquement)", DEFAULT_PUBLICATION_HOST)
    .action(serve);
}
