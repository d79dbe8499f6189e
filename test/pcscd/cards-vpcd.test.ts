// The shared card-session suite (test/unit/cards/session-suite.ts) through the machine's real
// pcscd and vsmartcard-vpcd: each virtual card is inserted in the first vpcd slot by an in-process
// VpcdLink and reached with a PC/SC channel from the ReaderMonitor, exactly as the agent will.
// APDU counts come from the link's log, i.e. what the card saw.
import { describe } from 'vitest';
import type { VirtualCard } from '../../src/simulator/virtual-card.js';
import { VpcdLink } from '../../src/simulator/vpcd/vpcd-link.js';
import { ReaderMonitor } from '../../src/transport/reader-monitor.js';
import { describeCardSessions, type CardHarness } from '../unit/cards/session-suite.js';
import { pcscdAvailable, PCSCD_HINT, requireSystem, VPCD_PORT } from '../support/system.js';

const ready = requireSystem('pcscd with vsmartcard-vpcd', pcscdAvailable(), PCSCD_HINT);

const sameBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);

/** Resolves once `check` is true, polling; rejects after `ms`. */
async function until(what: string, check: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function vpcdHarness(): Promise<CardHarness> {
  const monitor = new ReaderMonitor({ allowVirtualReaders: true });
  await monitor.start();
  const link = new VpcdLink({ port: VPCD_PORT });
  // The first vpcd slot: pcscd names it "Virtual PCD 00 00".
  const readerName = () => monitor.readers().find((r) => /Virtual PCD/.test(r.name) && r.name.endsWith('00 00'))?.name;
  await until('the first vpcd reader', () => readerName() !== undefined);

  return {
    async insert(card: VirtualCard) {
      const name = readerName()!;
      const before = monitor.insertionCount(name);
      link.insert(card);
      await until(`the card in ${name}`, () => {
        const listed = monitor.readers().find((r) => r.name === name)?.card;
        return listed !== undefined && listed !== null && listed.insertion > before && sameBytes(listed.atr, card.atr);
      });
      const channel = await monitor.connect(name);
      link.apduLog.clear();
      return {
        channel,
        apduCount: () => link.apduLog.size,
        resetApduCount: () => link.apduLog.clear(),
        async remove() {
          await channel.disconnect('leave');
          link.remove();
          await until(`${name} to be empty`, () => monitor.readers().find((r) => r.name === name)?.card === null);
        },
      };
    },
    async close() {
      await link.close();
      await monitor.close();
    },
  };
}

describe.skipIf(!ready)('card sessions through pcscd + vpcd', () => {
  describeCardSessions('card sessions over PC/SC (pcscd + vpcd)', vpcdHarness);
});
