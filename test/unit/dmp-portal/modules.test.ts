// The portal's building blocks on their own: secret hashing, activation codes, the secret code
// policy, contacts, rate-limit arithmetic and client addresses, sealed values, TOTP records, PDF
// sniffing.
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { LocalFileKeyProvider } from '../../../src/dmp/crypto/index.js';
import { newActivationCode, normalizeActivationCode, hashActivationCode, verifyActivationCode } from '../../../src/dmp/portal/activation.js';
import { maskContact, normalizeContact } from '../../../src/dmp/portal/contact.js';
import { DEFAULT_SCRYPT, hashSecret, isSecretHash, verifySecret } from '../../../src/dmp/portal/credentials.js';
import { addressKey, insBucket, retryAfterMs } from '../../../src/dmp/portal/rate-limit.js';
import { seal, unseal } from '../../../src/dmp/portal/sealed.js';
import { secretCodeProblems } from '../../../src/dmp/portal/secret-policy.js';
import { acceptedTotpStep, decodeTotpRecord, encodeTotpRecord, newTotpEnrollment, totpCodeFromUri } from '../../../src/dmp/portal/totp.js';
import { freshTempDir } from '../../support/dmp/index.js';
import './portal-support.js'; // lowers the scrypt cost of this file

const NIR = '185057511234567';

describe('secret hashing', () => {
  it('uses scrypt N=2^15 r=8 p=1 by default and a fresh salt per record; verification uses the record’s own salt and cost', async () => {
    const record = await hashSecret('Tournesol-42!', DEFAULT_SCRYPT);
    expect(record).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(await verifySecret('Tournesol-42!', record)).toBe(true);
    expect(await verifySecret('tournesol-42!', record)).toBe(false);
    const again = await hashSecret('Tournesol-42!');
    expect(again.split('$')[4]).not.toBe(record.split('$')[4]);
    // NFC: the same code typed with a combining accent matches
    expect(await verifySecret('Café-2024-x', await hashSecret('Cafe\u0301-2024-x'))).toBe(true);
  });

  it('refuses records that are not its own format or ask for absurd costs', async () => {
    const record = await hashSecret('abc-defgh-1');
    const [, , r, p, salt, key] = record.split('$');
    for (const bad of [null, '', 'plain', `scrypt$${2 ** 21}$${r}$${p}$${salt}$${key}`, `scrypt$1000$${r}$${p}$${salt}$${key}`, `scrypt$1024$${r}$${p}$${salt}$${key}x`, record.replace('scrypt', 'bcrypt')]) {
      expect(await verifySecret('abc-defgh-1', bad), String(bad)).toBe(false);
    }
    expect(isSecretHash(record)).toBe(true);
    expect(isSecretHash('sha256$abc')).toBe(false);
  });
});

describe('activation codes', () => {
  it('are 12 characters without look-alikes in groups of 4, typed in any case with or without separators', async () => {
    const codes = new Set(Array.from({ length: 200 }, () => newActivationCode()));
    expect(codes.size).toBe(200);
    for (const code of codes) expect(code).toMatch(/^[2-9A-HJKMNP-TV-Z]{4}-[2-9A-HJKMNP-TV-Z]{4}-[2-9A-HJKMNP-TV-Z]{4}$/);
    const code = [...codes][0]!;
    expect(normalizeActivationCode(` ${code.toLowerCase().replace(/-/g, ' ')} `)).toBe(code.replace(/-/g, ''));
    expect(normalizeActivationCode('O0O0-1111-IIII')).toBeUndefined();
    const hash = await hashActivationCode(code);
    expect(hash).not.toContain(code.replace(/-/g, ''));
    expect(await verifyActivationCode(code.replace(/-/g, '').toLowerCase(), hash)).toBe(true);
    expect(await verifyActivationCode('2222-2222-2222', hash)).toBe(false);
    expect(await verifyActivationCode('', hash)).toBe(false);
    expect(await verifyActivationCode(code, null)).toBe(false);
  });
});

describe('secret code policy', () => {
  it('accepts a reasonable code and says why others are refused', () => {
    expect(secretCodeProblems('Tournesol-42!', NIR)).toEqual([]);
    expect(secretCodeProblems('ma phrase de passe', NIR)).toEqual([]);
    const cases: [string, RegExp][] = [
      ['Ab1!x', /au moins 8/],
      ['a'.repeat(129), /au plus 128/],
      ['00000000', /différents|répétition/],
      ['12345678', /suite/],
      ['87654321', /suite/],
      ['abababab', /répétition|différents/],
      ['Password', /courant/],
      [`x${NIR.slice(3, 12)}`, /INS/],
      [' espaces au bord ', /espace/],
      ['tab\there-123', /contrôle/],
    ];
    for (const [code, reason] of cases) expect(secretCodeProblems(code, NIR).join(' '), code).toMatch(reason);
  });
});

describe('contacts', () => {
  it('stores French mobile numbers in E.164 and e-mail addresses as typed; shows them masked', () => {
    expect(normalizeContact('sms', '06 12 34 56 78')).toEqual({ kind: 'sms', value: '+33612345678' });
    expect(normalizeContact('sms', '+33 6.12.34.56.78')).toEqual({ kind: 'sms', value: '+33612345678' });
    expect(normalizeContact('sms', '0033612345678')).toEqual({ kind: 'sms', value: '+33612345678' });
    expect(normalizeContact('sms', '12345')).toBeUndefined();
    expect(normalizeContact('email', "o'brien+dmp@exemple.fr")).toEqual({ kind: 'email', value: "o'brien+dmp@exemple.fr" });
    for (const bad of ['a@b', '@exemple.fr', 'a b@exemple.fr', 'a@exemple..fr', `${'a'.repeat(65)}@exemple.fr`, 'a@-exemple.fr']) {
      expect(normalizeContact('email', bad), bad).toBeUndefined();
    }
    expect(maskContact('sms', '+33612345678')).toBe('+33•••••••78');
    expect(maskContact('email', 'jeanne@exemple.fr')).toBe('j•••@exemple.fr');
  });
});

describe('rate limits', () => {
  it('say when enough failures have left the window for one more attempt', () => {
    const rule = { limit: 5, windowMs: 15 * 60_000 };
    const now = 100 * 60_000;
    const slots = [
      { windowStart: now - 10 * 60_000, count: 2 },
      { windowStart: now - 5 * 60_000, count: 3 },
    ];
    expect(retryAfterMs(slots, rule, now)).toBe(5 * 60_000); // the 2 oldest leave in 5 minutes: 3 < 5
    expect(retryAfterMs([{ windowStart: now - 10 * 60_000, count: 9 }], rule, now)).toBe(5 * 60_000);
    expect(retryAfterMs([{ windowStart: now - 14 * 60_000 - 59_999, count: 5 }], rule, now)).toBe(1000); // never below one second
  });

  it('count per INS without writing it, per IPv4 address and per IPv6 /64', () => {
    const bucket = insBucket('login', `1.2.250.1.213.1.4.10:${NIR}`);
    expect(bucket).not.toContain(NIR);
    expect(bucket).not.toBe(insBucket('activation', `1.2.250.1.213.1.4.10:${NIR}`));
    expect(addressKey('203.0.113.9')).toBe('203.0.113.9');
    expect(addressKey('::ffff:203.0.113.9')).toBe('203.0.113.9');
    expect(addressKey('2001:db8:1:2:3:4:5:6')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:db8:1:2::99')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
  });
});

describe('sealed values and TOTP records', () => {
  let provider: LocalFileKeyProvider;
  beforeAll(async () => {
    provider = await LocalFileKeyProvider.open(join(freshTempDir('cardbridge-portal-seal-'), 'master.key'));
  });

  it('open only under the label they were sealed for', async () => {
    const sealed = await seal(new TextEncoder().encode('123456'), provider, 'outbox:a');
    expect(new TextDecoder().decode(await unseal(sealed, provider, 'outbox:a'))).toBe('123456');
    await expect(unseal(sealed, provider, 'outbox:b')).rejects.toMatchObject({ code: 'INTEGRITY' });
    await expect(unseal({ ...sealed, ciphertext: Buffer.from('x').toString('base64') }, provider, 'outbox:a')).rejects.toThrow();
  });

  it('accept a code of the current step (or a neighbour) once, for their own patient only', async () => {
    const { record, uri, secret } = await newTotpEnrollment({ patientId: 'p1', accountLabel: 'INS …4567', provider });
    expect(uri).toContain(`secret=${secret}`);
    expect(uri).toContain('issuer=DMP%20cardbridge');
    expect(JSON.stringify(record)).not.toContain(secret);
    const decoded = decodeTotpRecord(encodeTotpRecord(record))!;
    const now = 1_800_000_000_000;
    const step = await acceptedTotpStep(decoded, totpCodeFromUri(uri, now), now, 'p1', provider);
    expect(step).toBe(Math.floor(now / 30_000));
    expect(await acceptedTotpStep(decoded, totpCodeFromUri(uri, now - 30_000), now, 'p1', provider)).toBe(step! - 1);
    expect(await acceptedTotpStep(decoded, totpCodeFromUri(uri, now - 120_000), now, 'p1', provider)).toBeUndefined();
    expect(await acceptedTotpStep({ ...decoded, lastStep: step! }, totpCodeFromUri(uri, now), now, 'p1', provider)).toBeUndefined();
    await expect(acceptedTotpStep(decoded, totpCodeFromUri(uri, now), now, 'p2', provider)).rejects.toMatchObject({ code: 'INTEGRITY' });
    expect(decodeTotpRecord(new TextEncoder().encode('not json'))).toBeUndefined();
    expect(decodeTotpRecord(null)).toBeUndefined();
  });
});
