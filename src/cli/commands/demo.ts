// `cardbridge demo` (`npm run demo`): everything a first look needs, in one process — the test
// PKI, its CRLs on loopback, and the virtual cards of a consultation (the doctor's CPS3 and the
// family's Vitale card) in pcscd's vpcd readers. The agent and the DMP pages join it as they land.
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { startPublicationServer } from '../../pki/publication-server.js';
import { defaultStateDir } from '../../pki/state-dir.js';
import { TestPki } from '../../pki/test-pki.js';
import { VPCD_DEFAULT_PORT } from '../../simulator/vpcd/protocol.js';
import { DEFAULT_CONTROL_PORT, runSim } from './sim.js';

const PCSCD_SOCKET = '/run/pcscd/pcscd.comm';

interface DemoOptions {
  stateDir?: string;
}

async function runDemo(options: DemoOptions, command: Command): Promise<void> {
  const stateDir = options.stateDir ?? defaultStateDir();
  const pki = await TestPki.open(stateDir);
  process.stdout.write(`PKI de test (${pki.created ? 'créée' : 'reprise'}) dans ${stateDir}\n`);
  for (const ca of pki.describeCas()) process.stdout.write(`  ${ca.subject}\n`);
  try {
    const crls = await startPublicationServer(pki);
    process.stdout.write(`LCR publiées : ${crls.url}/crl/<ac>.crl\n`);
  } catch (error) {
    process.stdout.write(`LCR non publiées (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}) : un autre « cardbridge pki serve » tourne peut-être déjà\n`);
  }
  if (!existsSync(PCSCD_SOCKET)) {
    command.error(
      'pcscd ne tourne pas : les cartes virtuelles ne peuvent pas être insérées dans les lecteurs vpcd.\n' +
        'Installez et démarrez-le : sudo scripts/install-system-deps.sh && sudo scripts/start-pcscd.sh',
      { exitCode: 1 },
    );
  }
  process.stdout.write(
    'Lecteurs « Virtual PCD 00 00 » (CPS du Dr MARTIN, PIN 1234) et « Virtual PCD 00 01 » (carte Vitale de la famille DUPONT)\n' +
      'Essayez : opensc-tool --list-readers ; pkcs15-tool --reader 0 --list-certificates\n',
  );
  await runSim(
    {
      slot: [
        { slot: 0, card: 'cps:medecin' },
        { slot: 1, card: 'vitale:famille' },
      ],
      controlPort: DEFAULT_CONTROL_PORT,
      vpcdHost: '127.0.0.1',
      vpcdPort: VPCD_DEFAULT_PORT,
      stateDir,
    },
    command,
  );
}

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('Démonstration : PKI de test, LCR, CPS et carte Vitale virtuelles dans les lecteurs vpcd (Ctrl+C pour arrêter)')
    .option('--state-dir <dir>', "répertoire d'état (PKI, clés, état des cartes)")
    .action(async (options: DemoOptions, command: Command) => {
      await runDemo(options, command);
    });
}
