import { describe, expect, it } from 'vitest';
import { defaultStateDir } from '../../../src/pki/state-dir.js';

describe('default state directory', () => {
  it('prefers CARDBRIDGE_STATE_DIR, then $XDG_STATE_HOME/cardbridge, then ~/.local/state/cardbridge', () => {
    expect(defaultStateDir({ CARDBRIDGE_STATE_DIR: '/srv/cb', XDG_STATE_HOME: '/x' }, '/home/u')).toBe('/srv/cb');
    expect(defaultStateDir({ XDG_STATE_HOME: '/home/u/.state' }, '/home/u')).toBe('/home/u/.state/cardbridge');
    expect(defaultStateDir({}, '/home/u')).toBe('/home/u/.local/state/cardbridge');
  });

  it('ignores an empty override and a relative XDG_STATE_HOME', () => {
    expect(defaultStateDir({ CARDBRIDGE_STATE_DIR: '', XDG_STATE_HOME: 'relative/state' }, '/home/u')).toBe(
      '/home/u/.local/state/cardbridge',
    );
  });

  it('makes a relative override absolute', () => {
    expect(defaultStateDir({ CARDBRIDGE_STATE_DIR: 'state' }, '/home/u')).toBe(`${process.cwd()}/state`);
  });
});
