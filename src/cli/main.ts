#!/usr/bin/env node
// `cardbridge` command line: one module per command under ./commands, registered here.
import { Command } from 'commander';
import { registerPkiCommand } from './commands/pki.js';
import { registerSimCommand } from './commands/sim.js';
import { registerDemoCommand } from './commands/demo.js';
import { registerDmpCommand } from './commands/dmp.js';
import { registerCardsCommand } from './commands/cards.js';
import { registerCpsCommand } from './commands/cps.js';
import { registerVitaleCommand } from './commands/vitale.js';
import { registerInsCCommand } from './commands/ins-c.js';
import { registerAgentCommand } from './commands/agent.js';
import { registerMsgCommand } from './commands/msg.js';

const program = new Command('cardbridge')
  .description('Intergiciel carte CPS / Vitale pour les professionnels de santé (cardbridge)')
  .version('0.1.0')
  .showHelpAfterError();

registerPkiCommand(program);
registerSimCommand(program);
registerDemoCommand(program);
registerDmpCommand(program);
registerCardsCommand(program);
registerCpsCommand(program);
registerVitaleCommand(program);
registerInsCCommand(program);
registerAgentCommand(program);
registerMsgCommand(program);

await program.parseAsync(process.argv);
