// `cardbridge ins-c <prénom> <date AAMMJJ> <nir13>`: the 22-digit INS-C of cards.md.
import type { Command } from 'commander';
import { computeInsC } from '../../ins/ins-c.js';
import { runCommand, type OutputOptions } from '../support/run-command.js';

export function registerInsCCommand(program: Command): void {
  program
    .command('ins-c <prenom> <dateNaissance> <nir13>')
    .description("Calcule l'INS-C (22 chiffres) à partir du prénom, de la date de naissance AAMMJJ (telle que sur la carte) et des 13 premiers caractères du NIR propre")
    .option('--json', 'sortie JSON')
    .action(async (firstName: string, birthDate: string, nir13: string, options: OutputOptions) => {
      await runCommand(options, async () => ({ insC: computeInsC(firstName, birthDate, nir13) }), (r) => r.insC);
    });
}
