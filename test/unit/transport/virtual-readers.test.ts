// The virtual-reader rule shared by the agent and the CLI commands.
import { describe, expect, it } from 'vitest';
import { ALLOW_VIRTUAL_READERS_ENV, isReaderAllowed, isVirtualReaderName, virtualReadersAllowed } from '../../../src/transport/virtual-readers.js';

describe('virtual readers', () => {
  it("recognises vsmartcard-vpcd's readers and nothing else", () => {
    for (const name of ['Virtual PCD 00 00', 'Virtual PCD 00 01', 'virtual pcd 01 00', 'Virtual PCD']) {
      expect(isVirtualReaderName(name), name).toBe(true);
    }
    for (const name of ['Gemalto PC Twin Reader 00 00', 'Lecteur Virtual PCD', 'Virtual PCDX 00 00', 'OMNIKEY 3121']) {
      expect(isVirtualReaderName(name), name).toBe(false);
    }
  });

  it('are allowed by the option or by CARDBRIDGE_ALLOW_VIRTUAL_READERS=1 only', () => {
    expect(ALLOW_VIRTUAL_READERS_ENV).toBe('CARDBRIDGE_ALLOW_VIRTUAL_READERS');
    expect(virtualReadersAllowed(undefined, {})).toBe(false);
    expect(virtualReadersAllowed(false, {})).toBe(false);
    expect(virtualReadersAllowed(true, {})).toBe(true);
    expect(virtualReadersAllowed(undefined, { CARDBRIDGE_ALLOW_VIRTUAL_READERS: '1' })).toBe(true);
    expect(virtualReadersAllowed(undefined, { CARDBRIDGE_ALLOW_VIRTUAL_READERS: '0' })).toBe(false);
    expect(virtualReadersAllowed(undefined, { CARDBRIDGE_ALLOW_VIRTUAL_READERS: 'true' })).toBe(false);
  });

  it('filter reader names accordingly', () => {
    expect(isReaderAllowed('Virtual PCD 00 00', false)).toBe(false);
    expect(isReaderAllowed('Virtual PCD 00 00', true)).toBe(true);
    expect(isReaderAllowed('Gemalto PC Twin Reader 00 00', false)).toBe(true);
  });
});
