// Test cards as a CardSource: what `cardbridge sim --card-source test/support/test-card-source.ts`
// and the slot/control tests insert when they need a card but not a CPS or a Vitale.
import type { CardSource } from '../../src/simulator/slots.js';
import { TestCard, testAtr, type TestCardState } from './test-card.js';

export const TEST_CARD_IDS = ['test:alpha', 'test:beta'] as const;

/** Each id gets its own ATR (historical bytes "CB" + id suffix) so tests can tell them apart. */
export function atrOf(id: string): Uint8Array {
  return testAtr(new TextEncoder().encode(`CB${id.slice(id.indexOf(':') + 1)}`.slice(0, 15)));
}

export function createTestCardSource(): CardSource & { readonly created: string[] } {
  const created: string[] = [];
  return {
    ids: TEST_CARD_IDS,
    created,
    create(id, { savedState, onStateChange }) {
      created.push(id);
      return Promise.resolve(
        new TestCard({
          atr: atrOf(id),
          ...(savedState !== undefined ? { state: savedState as TestCardState } : {}),
          ...(onStateChange ? { onStateChange } : {}),
        }),
      );
    },
  };
}

/** The export `--card-source` loads. */
export const cardSource: CardSource = createTestCardSource();
