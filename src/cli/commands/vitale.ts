// `cardbridge vitale read`: the beneficiaries of the Vitale card, with NIR check and INS-C.
import type { Command } from 'commander';
import { VitaleSession } from '../../cards/vitale-session.js';
import { connectCard, withMonitor, type ReaderOptions } from '../support/reader-access.js';
import { runCommand, type OutputOptions } from '../support/run-command.js';

export function registerVitaleCommand(program: Command): void {
  const vitale = program.command('vitale').description('Carte Vitale');
  vitale
    .command('read')
    .description('Lit les bénéficiaires de la carte Vitale (NIR, INS-C quand le NIR propre est présent)')
    .option('--reader <nom>', 'lecteur à utiliser (défaut : le seul qui contient une carte Vitale)')
    .option('--allow-virtual-readers', 'inclure les lecteurs virtuels « Virtual PCD » (tests uniquement)')
    .option('--json', 'sortie JSON')
    .action(async (options: ReaderOptions & OutputOptions) => {
      await runCommand(
        options,
        () => withMonitor(options, async (monitor) => (await VitaleSession.open(await connectCard(monitor, options, ['VITALE2'], 'carte Vitale 2'))).read()),
        (card) =>
          [
            `Carte Vitale${card.serial ? ` n° ${card.serial}` : ''}${card.validFrom ? `, valable depuis le ${card.validFrom}` : ''}`,
            ...card.beneficiaries.map(
              (b, i) =>
                `${i + 1}. ${b.givenName} ${b.surname} — né(e) ${b.birthDate ?? `${b.birthDateRaw} (date lunaire)`} — NIR ${b.nir}${b.nirKeyValid ? '' : ' (clé invalide !)'}` +
                `\n   NIR propre : ${b.ownNir ?? 'absent'} — INS-C : ${b.insC ?? 'non calculable (pas de NIR propre)'}`,
            ),
          ].join('\n'),
      );
    });
}
