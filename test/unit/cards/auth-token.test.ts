// What an authentication token may be bound to, and the exact bytes it signs.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { authenticationSignedData, checkChallenge, isTokenOrigin } from '../../../src/cards/auth-token.js';
import { CardError } from '../../../src/cards/errors.js';

describe('authentication token inputs', () => {
  it('accepts serialised https origins, loopback http origins and app:<appId>', () => {
    for (const origin of ['https://dmp.example', 'https://dmp.example:8443', 'https://a-b.c.example', 'https://10.0.0.1:444', 'http://localhost', 'http://localhost:3000', 'http://127.0.0.1:8080', 'app:logiciel-cabinet', 'app:fr.editeur.lgc/2']) {
      expect(isTokenOrigin(origin), origin).toBe(true);
    }
  });

  it('refuses anything that is not exactly an origin', () => {
    for (const origin of [
      'https://dmp.example/',
      'https://dmp.example/x',
      'https://dmp.example?x',
      'https://dmp.example#x',
      'https://DMP.example',
      'HTTPS://dmp.example',
      'https://dmp.example:443',
      'http://localhost:80',
      'https://dmp.example:0',
      'https://dmp.example:65536',
      'https://dmp.example:08443',
      'https://user@dmp.example',
      'https://-dmp.example',
      'https://dmp..example',
      'https://1.2.3.4.5',
      'https://999.1.1.1',
      'http://dmp.example',
      'http://localhost.evil.example',
      'http://127.0.0.2',
      'ws://localhost',
      'https://dmp.example ',
      'null',
      '',
      'app:',
      'app: x',
      'app:é',
      42,
      null,
    ]) {
      expect(isTokenOrigin(origin), String(origin)).toBe(false);
    }
  });

  it('checks the challenge: padded base64, 44 to 128 characters', () => {
    const ok = (c: string) => {
      try {
        checkChallenge(c);
        return true;
      } catch (error) {
        expect(error).toBeInstanceOf(CardError);
        expect((error as CardError).code).toBe('INVALID_PARAMS');
        return false;
      }
    };
    const b64 = (n: number) => Buffer.alloc(n, 0x5a).toString('base64');
    expect(ok(b64(32))).toBe(true); // 44 characters
    expect(ok(b64(96))).toBe(true); // 128 characters
    expect(ok(b64(31))).toBe(true); // 44 characters ending in one '='
    expect(b64(31)).toHaveLength(44);
    expect(ok(b64(30))).toBe(false); // 40 characters
    expect(ok(b64(97))).toBe(false); // 132 characters
    expect(ok(b64(32).replace('=', ''))).toBe(false);
    expect(ok(b64(32).replace('W', '-'))).toBe(false);
    expect(ok(`${b64(30)}A===`)).toBe(false);
  });

  it('signs SHA-256(origin) || SHA-256(challenge)', () => {
    const data = authenticationSignedData('https://dmp.example', 'Y2hhbGxlbmdl');
    expect(Buffer.from(data.subarray(0, 32)).equals(createHash('sha256').update('https://dmp.example').digest())).toBe(true);
    expect(Buffer.from(data.subarray(32)).equals(createHash('sha256').update('Y2hhbGxlbmdl').digest())).toBe(true);
  });
});
