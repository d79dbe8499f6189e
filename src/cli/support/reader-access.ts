// How CLI commands reach a card: a ReaderMonitor for the time of one command, the reader holding
// a card of the wanted family (or the one named by --reader), one channel, then everything closed.
import { cardFamilyFromAtr, type CardFamily } from '../../cards/atr.js';
import type { CardChannel } from '../../transport/card-channel.js';
import { TransportError } from '../../transport/errors.js';
import { ReaderMonitor } from '../../transport/reader-monitor.js';
import type { PcscProvider } from '../../transport/pcsc-types.js';

export interface ReaderOptions {
  reader?: string;
  allowVirtualReaders?: boolean;
}

export interface ReaderListing {
  name: string;
  card: null | { family: CardFamily; atr: string };
}

export class CliError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

function hexAtr(atr: Uint8Array): string {
  return Buffer.from(atr).toString('hex').toUpperCase().replace(/(..)(?=.)/g, '$1 ');
}

export async function withMonitor<T>(options: ReaderOptions, fn: (monitor: ReaderMonitor) => Promise<T>, pcsc?: PcscProvider): Promise<T> {
  const monitor = new ReaderMonitor({ ...(pcsc ? { pcsc } : {}), allowVirtualReaders: options.allowVirtualReaders === true });
  try {
    await monitor.start();
    if (monitor.status !== 'ok') {
      throw new CliError('PCSC_UNAVAILABLE', 'Le service des cartes à puce (pcscd) ne répond pas : démarrez-le (sudo scripts/start-pcscd.sh).');
    }
    return await fn(monitor);
  } finally {
    await monitor.close();
  }
}

export function listReaders(monitor: ReaderMonitor): ReaderListing[] {
  return monitor.readers().map((r) => ({
    name: r.name,
    card: r.card ? { family: cardFamilyFromAtr(r.card.atr), atr: hexAtr(r.card.atr) } : null,
  }));
}

/** Connects to the one card of one of `families` (or the card in --reader). */
export async function connectCard(monitor: ReaderMonitor, options: ReaderOptions, families: readonly CardFamily[], what: string): Promise<CardChannel> {
  const readers = listReaders(monitor);
  if (readers.length === 0) {
    const hint = options.allowVirtualReaders ? '' : ' (les lecteurs virtuels « Virtual PCD » sont ignorés sans --allow-virtual-readers)';
    throw new CliError('READER_NOT_FOUND', `Aucun lecteur de carte détecté${hint}.`);
  }
  let name: string;
  if (options.reader !== undefined) {
    const chosen = readers.find((r) => r.name === options.reader);
    if (!chosen) throw new CliError('READER_NOT_FOUND', `Lecteur introuvable : ${options.reader}. Lecteurs : ${readers.map((r) => r.name).join(', ')}`);
    if (!chosen.card) throw new CliError('CARD_ABSENT', `Aucune carte dans le lecteur ${chosen.name}.`);
    if (!families.includes(chosen.card.family)) {
      throw new CliError('UNSUPPORTED_CARD', `La carte du lecteur ${chosen.name} n'est pas une ${what} (${chosen.card.family}).`);
    }
    name = chosen.name;
  } else {
    const matching = readers.filter((r) => r.card && families.includes(r.card.family));
    if (matching.length === 0) {
      const other = readers.find((r) => r.card);
      throw new CliError(
        other ? 'UNSUPPORTED_CARD' : 'CARD_ABSENT',
        other ? `Aucune ${what} : la carte présente (${other.name}) est de type ${other.card?.family}.` : `Aucune ${what} dans les lecteurs : insérez la carte.`,
      );
    }
    if (matching.length > 1) {
      throw new CliError('CARD_AMBIGUOUS', `Plusieurs cartes conviennent (${matching.map((r) => r.name).join(', ')}) : précisez --reader.`);
    }
    name = matching[0]!.name;
  }
  try {
    return await monitor.connect(name);
  } catch (error) {
    if (error instanceof TransportError) throw new CliError(error.code, `Connexion à la carte impossible (${error.code}) : ${error.message}`);
    throw error;
  }
}
