#!/usr/bin/env node
// `cardbridge` command line: one module per command under ./commands, registered here.
import { Command } from 'commander';
import { registerPkiCommand } from './commands/pki.js';
import { registerSimCommand } from './commands/sim.js';
import { registerDemoCommand } from './commands/demo.js';

const program = new Command('cardbridge')
  .description('Intergiciel carte CPS / Vitale pour les professionnels de santé (cardbridge)')
  .version('0.1.0')
  .showHelpAfterError();

registerPkiCommand(program);
registerSimCommand(program);
registerDemoCommand(program);

await program.parseAsync(process.argv);
