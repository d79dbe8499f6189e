// `cardbridge sim`: virtual cards in pcscd's vpcd readers (slot n = vpcd port base + n), driven
// by the loopback control API of simulator.md. Runs until SIGINT/SIGTERM.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { defaultStateDir } from '../../pki/state-dir.js';
import { TestPki } from '../../pki/test-pki.js';
import { createPersonaCard, isPersonaId, PERSONA_IDS } from '../../simulator/card-factory.js';
import { startControlServer, type ControlServer } from '../../simulator/control/server.js';
import { SlotRegistry, type CardSource } from '../../simulator/slots.js';
import { VPCD_DEFAULT_PORT } from '../../simulator/vpcd/protocol.js';
import { VpcdLink } from '../../simulator/vpcd/vpcd-link.js';

export const DEFAULT_CONTROL_PORT = 35980;
/** Slots of vpcd's default reader.conf entry (ports 35963 and 35964). */
const DEFAULT_SLOTS = 2;

export interface SimOptions {
  slot: SlotSpec[];
  slots?: number;
  controlPort: number;
  vpcdHost: string;
  vpcdPort: number;
  stateDir?: string;
  json?: boolean;
  cardSource?: string;
}

export interface SlotSpec {
  slot: number;
  card: string;
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) throw new InvalidArgumentError('port attendu : un entier de 0 à 65535');
  return port;
}

function parseSlotCount(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 64) throw new InvalidArgumentError("nombre d'emplacements attendu : 1 à 64");
  return n;
}

function collectSlot(value: string, previous: SlotSpec[]): SlotSpec[] {
  const m = /^(\d{1,2})=(.+)$/.exec(value);
  if (!m) throw new InvalidArgumentError('forme attendue : <emplacement>=<persona>, par exemple 0=cps:medecin');
  const slot = Number(m[1]);
  if (previous.some((s) => s.slot === slot)) throw new InvalidArgumentError(`emplacement ${slot} donné deux fois`);
  return [...previous, { slot, card: m[2] ?? '' }];
}

/** The personas of simulator.md, with keys from the test PKI of the state directory (opened on first use). */
function personaCardSource(stateDir: string): CardSource {
  let pki: Promise<TestPki> | null = null;
  return {
    ids: PERSONA_IDS,
    async create(id, options) {
      if (!isPersonaId(id)) throw new Error(`persona inconnue : ${id}`);
      pki ??= TestPki.open(stateDir);
      return createPersonaCard(id, { pki: await pki, ...options });
    },
  };
}

/** A module exporting `cardSource` (or a default export) implementing CardSource: test cards. */
async function loadCardSource(modulePath: string): Promise<CardSource> {
  const mod = (await import(pathToFileURL(path.resolve(modulePath)).href)) as { cardSource?: CardSource; default?: CardSource };
  const source = mod.cardSource ?? mod.default;
  if (!source || !Array.isArray(source.ids) || typeof source.create !== 'function') {
    throw new Error(`${modulePath} n'exporte pas de cardSource { ids, create }`);
  }
  return source;
}

function describeError(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  return err?.code ?? (e instanceof Error ? e.message : String(e));
}

/** Runs the simulator until SIGINT/SIGTERM (also the heart of `cardbridge demo`). */
export async function runSim(options: SimOptions, command: Command): Promise<void> {
  const out = (line: string): void => {
    process.stdout.write(`${line}\n`);
  };
  const event = (name: string, fields: Record<string, unknown>, french: string): void => {
    out(options.json ? JSON.stringify({ event: name, ...fields }) : french);
  };

  const highest = Math.max(-1, ...options.slot.map((s) => s.slot));
  const slotCount = options.slots ?? Math.max(DEFAULT_SLOTS, highest + 1);
  if (highest >= slotCount) command.error(`--slot ${highest}=… dépasse --slots ${slotCount} (emplacements 0 à ${slotCount - 1})`);

  let source: CardSource;
  try {
    source = options.cardSource ? await loadCardSource(options.cardSource) : personaCardSource(options.stateDir ?? defaultStateDir());
  } catch (e) {
    command.error(`Source de cartes inutilisable : ${describeError(e)}`, { exitCode: 1 });
  }
  for (const s of options.slot) {
    if (!source.ids.includes(s.card)) {
      command.error(`Persona inconnue : ${s.card}. Personas disponibles : ${source.ids.join(', ')}`);
    }
  }

  const outage = new Set<number>();
  const registry = new SlotRegistry({
    slots: slotCount,
    cardSource: source,
    vpcdHost: options.vpcdHost,
    vpcdPort: options.vpcdPort,
    ...(options.stateDir ? { stateDir: options.stateDir } : {}),
    createLink: (slot, port) => {
      const link = new VpcdLink({ host: options.vpcdHost, port });
      const where = `${options.vpcdHost}:${port}`;
      link.on('connected', () => {
        outage.delete(slot);
        const card = registry.list()[slot]?.card ?? null;
        event('slot-connected', { slot, card, vpcd: where }, `Emplacement ${slot} : carte ${card ?? '?'} présente dans le lecteur vpcd (${where})`);
      });
      link.on('disconnected', () => {
        outage.add(slot);
        event('slot-disconnected', { slot, vpcd: where }, `Emplacement ${slot} : connexion à vpcd perdue (pcscd arrêté ?) ; reconnexion automatique…`);
      });
      link.on('retry', (_delay: number, error?: Error) => {
        if (outage.has(slot)) return; // one message per outage
        outage.add(slot);
        event(
          'slot-waiting',
          { slot, vpcd: where, error: error ? describeError(error) : null },
          `Emplacement ${slot} : vpcd injoignable sur ${where} (${error ? describeError(error) : 'connexion fermée'}) — pcscd est-il lancé (scripts/start-pcscd.sh) ? Nouvelles tentatives…`,
        );
      });
      return link;
    },
  });

  let server: ControlServer;
  try {
    server = await startControlServer(registry, { port: options.controlPort });
  } catch (e) {
    await registry.close();
    const code = (e as NodeJS.ErrnoException).code;
    command.error(
      code === 'EADDRINUSE'
        ? `Le port de contrôle ${options.controlPort} est déjà utilisé (--control-port 0 pour un port libre)`
        : `Impossible d'ouvrir l'API de contrôle : ${describeError(e)}`,
      { exitCode: 1 },
    );
  }

  try {
    for (const s of options.slot) await registry.insert(s.slot, s.card);
  } catch (e) {
    await server.close();
    await registry.close();
    command.error(`Impossible d'insérer les cartes demandées : ${describeError(e)}`, { exitCode: 1 });
  }

  if (slotCount > DEFAULT_SLOTS && options.vpcdPort === VPCD_DEFAULT_PORT) {
    process.stderr.write(
      `Attention : l'entrée vpcd par défaut de pcscd n'ouvre que ${DEFAULT_SLOTS} emplacements (ports ${VPCD_DEFAULT_PORT}-${VPCD_DEFAULT_PORT + DEFAULT_SLOTS - 1}) ; ` +
        `les suivants demandent chacun une entrée reader.conf.d avec son port.\n`,
    );
  }

  const slots = registry.list().map((s) => ({ ...s, vpcdPort: registry.port(s.slot) }));
  event(
    'ready',
    { control: server.url, controlPort: server.port, vpcdHost: options.vpcdHost, slots },
    `Simulateur prêt — API de contrôle : ${server.url} — ` +
      slots.map((s) => `emplacement ${s.slot} (vpcd ${options.vpcdHost}:${s.vpcdPort}) : ${s.card ?? 'vide'}`).join(' ; '),
  );

  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals): void => {
      if (stopping) {
        process.exit(130); // second signal: do not wait any longer
      }
      stopping = true;
      event('stopping', { signal }, `Arrêt du simulateur (${signal})…`);
      void Promise.all([server.close(), registry.close()]).then(() => {
        event('stopped', {}, 'Simulateur arrêté.');
        resolve();
      });
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

export function registerSimCommand(program: Command): void {
  program
    .command('sim')
    .description(
      'Cartes virtuelles CPS et Vitale dans les lecteurs vpcd de pcscd (emplacement n = port vpcd + n), pilotées par une API HTTP locale',
    )
    .option('--slot <n=persona>', 'carte insérée au démarrage, répétable (ex. --slot 0=cps:medecin --slot 1=vitale:famille)', collectSlot, [])
    .option('--slots <n>', `nombre d'emplacements (défaut : ${DEFAULT_SLOTS}, ou plus si un --slot l'exige)`, parseSlotCount)
    .option('--control-port <port>', "port de l'API de contrôle sur 127.0.0.1 (0 = port libre, affiché au démarrage)", parsePort, DEFAULT_CONTROL_PORT)
    .option('--vpcd-host <hôte>', 'hôte où écoute vpcd', '127.0.0.1')
    .option('--vpcd-port <port>', "port vpcd de l'emplacement 0", parsePort, VPCD_DEFAULT_PORT)
    .option('--state-dir <dir>', 'répertoire où la PKI de test, les clés et l\'état des cartes (essais PIN…) persistent entre deux lancements')
    .option('--json', 'une ligne JSON par événement (prêt, connexion, arrêt) au lieu des messages')
    .addOption(new Option('--card-source <module>', 'module exportant cardSource { ids, create } (cartes de test)').hideHelp())
    .addHelpText(
      'after',
      `\nPersonas : ${PERSONA_IDS.join(', ')}\n` +
        'API : GET /slots ; PUT /slots/{n} {"card":"<persona>","fresh"?:true} ; DELETE /slots/{n} ; GET|DELETE /slots/{n}/apdu-log\n' +
        'pcscd doit tourner sans --auto-exit (scripts/start-pcscd.sh).',
    )
    .action(async (options: SimOptions, command: Command) => {
      await runSim(options, command);
    });
}
