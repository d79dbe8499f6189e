// `cardbridge cards list`: the readers PC/SC sees and the family of the card in each.
import type { Command } from 'commander';
import { listReaders, withMonitor, type ReaderOptions } from '../support/reader-access.js';
import { runCommand, type OutputOptions } from '../support/run-command.js';

export const FAMILY_LABEL: Record<string, string> = {
  CPS3: 'CPS3',
  CPS4: 'CPS4',
  VITALE2: 'carte Vitale 2',
  VITALE1: 'carte Vitale 1 (non prise en charge)',
  UNKNOWN: 'carte inconnue',
};

export function registerCardsCommand(program: Command): void {
  const cards = program.command('cards').description('Lecteurs et cartes');
  cards
    .command('list')
    .description('Liste les lecteurs et la carte présente dans chacun')
    .option('--allow-virtual-readers', 'inclure les lecteurs virtuels « Virtual PCD » (tests uniquement)')
    .option('--json', 'sortie JSON')
    .action(async (options: ReaderOptions & OutputOptions) => {
      await runCommand(
        options,
        () => withMonitor(options, async (monitor) => listReaders(monitor)),
        (readers) =>
          readers.length === 0
            ? 'Aucun lecteur détecté.'
            : readers.map((r) => `${r.name} : ${r.card ? `${FAMILY_LABEL[r.card.family] ?? r.card.family} (ATR ${r.card.atr})` : 'pas de carte'}`).join('\n'),
      );
    });
}
