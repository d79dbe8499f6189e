// Drives the virtual Vitale 2 card at the APDU level, the way a host reader would: select the
// applications, read EF POINTERS by SFI and by offset, follow the pointers, parse the
// beneficiaries, and check every status word the card promises (cards.md, simulator.md).
import { describe, expect, it } from 'vitest';
import { decodeResponseApdu, encodeCommandApdu, type CommandApdu, type ResponseApdu } from '../../../../src/iso7816/apdu.js';
import { fromHex, hex } from '../../../../src/iso7816/hex.js';
import { transmitApdu } from '../../../../src/iso7816/t0.js';
import { findTlv, parseTlv, type TlvNode } from '../../../../src/iso7816/tlv.js';
import { VITALE_PERSONAS, type VitaleBeneficiary, type VitalePersona } from '../../../../src/simulator/vitale/personas.js';
import { Vitale2Card } from '../../../../src/simulator/vitale/vitale2-card.js';

// Literals from cards.md, deliberately not imported from the implementation.
const AID_VITALE = fromHex('D2 50 00 00 02 56 49 54 41 4C 45');
const AID_MF_VITALE = fromHex('D2 50 00 00 02 4D 46 5F 56 49 54 41 4C 45');

const latin1 = (bytes: Uint8Array): string => String.fromCharCode(...bytes);

/** One raw exchange: hex command in, { data, sw } out (no T=0 help). */
function raw(card: Vitale2Card, command: string | CommandApdu): ResponseApdu {
  const bytes = typeof command === 'string' ? fromHex(command) : encodeCommandApdu(command);
  return decodeResponseApdu(card.transmit(bytes));
}

const swOf = (card: Vitale2Card, command: string | CommandApdu): string => hex(Uint8Array.of(...swBytes(raw(card, command))));
const swBytes = (r: ResponseApdu): [number, number] => [r.sw1, r.sw2];

/** A full exchange with the host's T=0 rules (61xx GET RESPONSE, 6Cxx re-send). */
async function exchange(card: Vitale2Card, command: CommandApdu): Promise<ResponseApdu> {
  return transmitApdu(async (apdu) => card.transmit(apdu), command);
}

async function selectAid(card: Vitale2Card, aid: Uint8Array): Promise<void> {
  const r = await exchange(card, { cla: 0x00, ins: 0xa4, p1: 0x04, p2: 0x0c, data: aid });
  expect(r.sw).toBe(0x9000);
}

/** Reads a whole EF in 256-byte chunks by offset (the EF must be current), as cardpeek does. */
async function readWhole(card: Vitale2Card): Promise<Uint8Array> {
  const parts: number[] = [];
  for (let offset = 0; ; offset += 256) {
    const r = await exchange(card, { cla: 0x00, ins: 0xb0, p1: offset >> 8, p2: offset & 0xff, le: 256 });
    if (r.sw === 0x6b00) break; // offset at the end of the file
    expect(r.sw).toBe(0x9000);
    parts.push(...r.data);
    if (r.data.length < 256) break;
  }
  return Uint8Array.from(parts);
}

interface Pointers {
  applications: { index: number; aid: string }[];
  files: { name: string; index: number; fid: number }[];
}

function parsePointers(content: Uint8Array): Pointers {
  const nodes = parseTlv(content, { skipPadding: true });
  expect(nodes.map((n) => n.tag)).toEqual([0xe0]);
  const e0 = nodes[0]?.children ?? [];
  const a0 = findTlv(e0, 0xa0);
  expect(a0).toBeDefined();
  const applications = (a0?.children ?? []).map((n) => {
    expect(n.tag).toBe(0x82);
    return { index: (n.value[0] ?? 0) * 256 + (n.value[1] ?? 0), aid: hex(n.value.subarray(4)) };
  });
  const files = e0
    .filter((n) => n.tag === 0x80)
    .map((n) => {
      expect(n.value).toHaveLength(12);
      return {
        name: latin1(n.value.subarray(0, 8)),
        index: (n.value[8] ?? 0) * 256 + (n.value[9] ?? 0),
        fid: (n.value[10] ?? 0) * 256 + (n.value[11] ?? 0),
      };
    });
  return { applications, files };
}

const text = (nodes: readonly TlvNode[], tag: number): string | undefined => {
  const node = findTlv(nodes, tag);
  return node ? latin1(node.value) : undefined;
};

/** Everything a host can learn from the card by following the pointers. */
async function readCard(card: Vitale2Card) {
  await selectAid(card, AID_VITALE);
  const first = await exchange(card, { cla: 0x00, ins: 0xb0, p1: 0x81, p2: 0x00, le: 256 }); // SFI 1 = EF 2001
  expect(first.sw).toBe(0x9000);
  const pointers = parsePointers(first.data);
  const vitaleIndex = pointers.applications.find((a) => a.aid === hex(AID_VITALE))?.index;
  const templates: TlvNode[] = [];
  for (const file of pointers.files.filter((f) => f.index === vitaleIndex)) {
    const selected = await exchange(card, { cla: 0x00, ins: 0xa4, p1: 0x02, p2: 0x0c, data: Uint8Array.of(file.fid >> 8, file.fid & 0xff) });
    expect(selected.sw, file.name).toBe(0x9000);
    const content = await readWhole(card);
    const nodes = parseTlv(content, { skipPadding: true });
    templates.push(...nodes);
  }
  return { pointers, templates };
}

function expectedBeneficiary(b: VitaleBeneficiary) {
  return {
    surname: b.surname,
    givenName: b.givenName,
    birthDate: b.birthDateRaw,
    nationality: b.nationality,
    nir: b.nir,
    ownNir: b.ownNir ?? undefined,
    quality: String(b.quality),
    birthRank: String(b.birthRank),
    birthSurname: b.birthSurname,
    amo: [b.amo.regime, b.amo.caisse, b.amo.centre, b.amo.start, b.amo.end],
    medecinTraitant: b.medecinTraitant ? [b.medecinTraitant.rpps, b.medecinTraitant.name] : undefined,
  };
}

function beneficiaryFrom(template: TlvNode) {
  const c = template.children ?? [];
  const rpps = text(c, 0xc9);
  return {
    surname: text(c, 0x80),
    givenName: text(c, 0x81),
    birthDate: text(c, 0x82),
    nationality: text(c, 0x90),
    nir: text(c, 0x93),
    ownNir: text(c, 0xc0),
    quality: text(c, 0xc1),
    birthRank: text(c, 0xc2),
    birthSurname: text(c, 0xc3),
    amo: [0xc4, 0xc5, 0xc6, 0xc7, 0xc8].map((tag) => text(c, tag)),
    medecinTraitant: rpps === undefined ? undefined : [rpps, text(c, 0xca)],
  };
}

const personas = Object.values(VITALE_PERSONAS);

describe('Vitale2Card identity', () => {
  it('answers the Vitale 2 ATR on T=0 and says VITALE2', () => {
    const card = new Vitale2Card(VITALE_PERSONAS['vitale:famille']);
    expect(hex(card.atr)).toBe('3B 75 13 00 00 47 09 EA 90 00');
    expect(card.atr[5] ?? 0).toBeGreaterThanOrEqual(0x43);
    expect(card.atr[5] ?? 0).toBeLessThanOrEqual(0x4c);
    expect(card.family).toBe('VITALE2');
  });
});

describe('Vitale2Card applications and pointers', () => {
  it('selects both applications by AID and answers an FCP naming them', async () => {
    const card = new Vitale2Card(VITALE_PERSONAS['vitale:famille']);
    for (const aid of [AID_VITALE, AID_MF_VITALE]) {
      const r = await exchange(card, { cla: 0x00, ins: 0xa4, p1: 0x04, p2: 0x04, data: aid });
      expect(r.sw).toBe(0x9000);
      expect(hex(findTlv(parseTlv(r.data), 0x62, 0x84)?.value ?? new Uint8Array())).toBe(hex(aid));
      expect(swOf(card, { cla: 0x00, ins: 0xa4, p1: 0x04, p2: 0x0c, data: aid })).toBe('90 00');
    }
  });

  it('lists both applications and every data file in EF 2001, read by SFI and by offset alike', async () => {
    const card = new Vitale2Card(VITALE_PERSONAS['vitale:famille']);
    const { pointers } = await readCard(card);
    expect(pointers.applications).toEqual([
      { index: 1, aid: hex(AID_MF_VITALE) },
      { index: 2, aid: hex(AID_VITALE) },
    ]);
    expect(pointers.files.map((f) => [f.name, f.index, f.fid.toString(16).toUpperCase()])).toEqual([
      ['CARTE   ', 2, '2002'],
      ['CERTIF  ', 2, '2003'],
      ['BENEF01 ', 2, '2004'],
      ['BENEF02 ', 2, '2005'],
      ['BENEF03 ', 2, '2006'],
    ]);

    // The same bytes through SELECT 2001 + READ BINARY by offset, and by path from the MF.
    const bySfi = raw(card, '00 B0 81 00 00');
    expect(swOf(card, '00 A4 00 0C 02 20 01')).toBe('90 00');
    const byOffset = raw(card, '00 B0 00 00 00');
    expect(hex(byOffset.data)).toBe(hex(bySfi.data));
    expect(byOffset.data).toHaveLength(256);
    expect(swOf(card, '00 A4 08 0C 04 20 00 20 01')).toBe('90 00');
    expect(hex(raw(card, '00 B0 00 10 20').data)).toBe(hex(bySfi.data.subarray(16, 48)));
  });

  it('holds EF DIR and EF PAN under MF_VITALE', async () => {
    const card = new Vitale2Card(VITALE_PERSONAS['vitale:corse']);
    await selectAid(card, AID_MF_VITALE);
    const dir = await exchange(card, { cla: 0x00, ins: 0xa4, p1: 0x00, p2: 0x04, data: fromHex('2F 00') });
    expect(findTlv(parseTlv(dir.data), 0x62, 0x83)?.value).toEqual(fromHex('2F 00'));
    const records = parseTlv(await readWhole(card), { skipPadding: true });
    expect(records.map((r) => hex(findTlv([r], 0x61, 0x4f)?.value ?? new Uint8Array()))).toEqual([hex(AID_MF_VITALE), hex(AID_VITALE)]);
    expect(swOf(card, '00 A4 00 0C 02 2F 02')).toBe('90 00');
    const pan = parseTlv(await readWhole(card), { skipPadding: true });
    expect(hex(findTlv(pan, 0x5a)?.value ?? new Uint8Array())).toBe('01 23 45 67 02');
  });
});

describe('Vitale2Card personalisation', () => {
  it.each(personas.map((p) => [p.id, p] as [string, VitalePersona]))('%s: every beneficiary reads back as the persona says', async (_id, persona) => {
    const card = new Vitale2Card(persona);
    const { templates } = await readCard(card);
    expect(templates.map((t) => t.tag.toString(16).toUpperCase())).toEqual(['66', '7F21', ...persona.beneficiaries.map(() => '65')]);
    expect(text(templates[0]?.children ?? [], 0x80)).toBe(persona.validityStart);
    const beneficiaries = templates.filter((t) => t.tag === 0x65).map(beneficiaryFrom);
    expect(beneficiaries).toEqual(persona.beneficiaries.map(expectedBeneficiary));
  });

  it('keeps the lunar birth date raw, the 2A NIR as written and no own NIR for an ayant droit', async () => {
    const read = async (id: keyof typeof VITALE_PERSONAS) =>
      (await readCard(new Vitale2Card(VITALE_PERSONAS[id]))).templates.filter((t) => t.tag === 0x65).map((t) => t.children ?? []);
    const lunar = await read('vitale:lunaire');
    expect(lunar.map((c) => text(c, 0x82))).toEqual(['19620000', '19673205']);
    const corse = await read('vitale:corse');
    expect(text(corse[0] ?? [], 0x93)).toBe('285062A00407867');
    expect(text(corse[1] ?? [], 0xc0)).toBe('115092B03301106');
    const child = await read('vitale:ayant-droit');
    expect(child).toHaveLength(1);
    expect(text(child[0] ?? [], 0x93)).toBe('175063155504285');
    expect(findTlv(child[0] ?? [], 0xc0)).toBeUndefined();
    const famille = await read('vitale:famille');
    expect(famille.map((c) => text(c, 0xc0))).toEqual(['178047511212393', '280096912304532', '112033306321008']);
    expect(text(famille[1] ?? [], 0xc3)).toBe('LEFEBVRE');
  });

  it('carries a card-verifiable certificate with deterministic signature and remainder', async () => {
    const certOf = async (persona: VitalePersona) => {
      const card = new Vitale2Card(persona);
      await selectAid(card, AID_VITALE);
      const r = await exchange(card, { cla: 0x00, ins: 0xa4, p1: 0x02, p2: 0x0c, data: fromHex('20 03') });
      expect(r.sw).toBe(0x9000);
      const nodes = parseTlv(await readWhole(card), { skipPadding: true });
      return { signature: findTlv(nodes, 0x7f21, 0x5f37)?.value, remainder: findTlv(nodes, 0x7f21, 0x5f38)?.value };
    };
    const a = await certOf(VITALE_PERSONAS['vitale:famille']);
    const again = await certOf(VITALE_PERSONAS['vitale:famille']);
    const b = await certOf(VITALE_PERSONAS['vitale:corse']);
    expect(a.signature).toHaveLength(128);
    expect(a.remainder?.length).toBeGreaterThan(0);
    expect(a).toEqual(again);
    expect(hex(a.signature ?? new Uint8Array())).not.toBe(hex(b.signature ?? new Uint8Array()));
    expect(new Set(a.signature).size).toBeGreaterThan(64); // looks random, not a constant fill
  });
});

describe('Vitale2Card READ BINARY', () => {
  it('reads a file longer than 256 bytes in chunks, pads with zeros, and tells the end of file', () => {
    const card = new Vitale2Card(VITALE_PERSONAS['vitale:famille']);
    expect(swOf(card, '00 A4 04 0C 0B D2 50 00 00 02 56 49 54 41 4C 45')).toBe('90 00');
    const first = raw(card, '00 B0 84 00 00'); // SFI 4: first beneficiary, 256 bytes
    expect([first.data.length, first.sw]).toEqual([256, 0x9000]);
    const templateLength = 3 + (first.data[2] ?? 0); // 65 81 LL
    expect(first.data[0]).toBe(0x65);
    expect(first.data.subarray(templateLength).every((b) => b === 0)).toBe(true);
    expect(swOf(card, '00 B0 01 00 00')).toBe('6C 80'); // 128 bytes left: T=0 gives the right Le
    const rest = raw(card, '00 B0 01 00 80');
    expect([rest.data.length, rest.sw]).toEqual([128, 0x9000]);
    expect(rest.data.every((b) => b === 0)).toBe(true);
    expect(swOf(card, '00 B0 01 80 01')).toBe('6B 00'); // offset = size
    expect(swOf(card, '00 B0 7F FF 01')).toBe('6B 00');
  });

  it('answers 6C xx with the length of a short file, and the data when re-sent with it', () => {
    const card = new Vitale2Card(VITALE_PERSONAS['vitale:lunaire']);
    raw(card, '00 A4 04 0C 0B D2 50 00 00 02 56 49 54 41 4C 45');
    expect(swOf(card, '00 B0 82 00 00')).toBe('6C 40'); // EF CARTE is 64 bytes
    expect(swOf(card, '00 B0 82 00 41')).toBe('6C 40');
    const r = raw(card, '00 B0 82 00 40');
    expect(hex(r.data.subarray(0, 12))).toBe('66 0A 80 08 32 30 32 31 30 33 30 31');
    expect(r.sw).toBe(0x9000);
    expect(hex(raw(card, '00 B0 82 3C 04').data)).toBe('00 00 00 00');
  });

  it('queues the data of a READ BINARY without Le for GET RESPONSE (61 xx)', () => {
    const card = new Vitale2Card(VITALE_PERSONAS['vitale:famille']);
    raw(card, '00 A4 04 0C 0B D2 50 00 00 02 56 49 54 41 4C 45');
    expect(swOf(card, '00 B0 81 00')).toBe('61 00'); // 256 bytes waiting
    const r = raw(card, '00 C0 00 00 00');
    expect([r.data.length, r.sw, r.data[0]]).toEqual([256, 0x9000, 0xe0]);
  });
});

describe('Vitale2Card T=0 response shaping', () => {
  it('answers a SELECT with data as 61 xx, then GET RESPONSE in parts, 6C xx for too much, 6985 with nothing left', () => {
    const card = new Vitale2Card(VITALE_PERSONAS['vitale:famille']);
    const answer = raw(card, '00 A4 04 04 0B D2 50 00 00 02 56 49 54 41 4C 45');
    expect(answer.sw1).toBe(0x61);
    const total = answer.sw2;
    expect(total).toBeGreaterThan(4);
    expect(swOf(card, { cla: 0, ins: 0xc0, p1: 0, p2: 0, le: total + 1 })).toBe(hex(Uint8Array.of(0x6c, total)));
    const part = raw(card, '00 C0 00 00 04');
    expect(hex(part.data.subarray(0, 1))).toBe('62');
    expect([part.sw1, part.sw2]).toEqual([0x61, total - 4]);
    expect(swOf(card, '00 C0 01 00 00')).toBe('6A 86'); // wrong P1 ends the pending answer
    expect(swOf(card, '00 C0 00 00 00')).toBe('69 85');

    raw(card, '00 A4 04 04 0B D2 50 00 00 02 56 49 54 41 4C 45');
    const all = raw(card, { cla: 0, ins: 0xc0, p1: 0, p2: 0, le: total });
    expect([all.data.length, all.sw]).toEqual([total, 0x9000]);
    expect(swOf(card, '00 C0 00 00 00')).toBe('69 85');
  });

  it('drops the pending answer when another command comes in between', () => {
    const card = new Vitale2Card(VITALE_PERSONAS['vitale:famille']);
    expect(raw(card, '00 A4 04 04 0B D2 50 00 00 02 56 49 54 41 4C 45').sw1).toBe(0x61);
    expect(swOf(card, '00 A4 04 0C 0B D2 50 00 00 02 56 49 54 41 4C 45')).toBe('90 00');
    expect(swOf(card, '00 C0 00 00 00')).toBe('69 85');
  });
});

describe('Vitale2Card status words for bad commands', () => {
  const cases: [string, string, string][] = [
    ['instruction not supported: VERIFY', '00 20 00 01 04 31 32 33 34', '6D 00'],
    ['instruction not supported: GET DATA', '00 CA 01 00 00', '6D 00'],
    ['instruction not supported: UPDATE BINARY', '00 D6 00 00 01 00', '6D 00'],
    ['instruction not supported: READ RECORD', '00 B2 01 0C 00', '6D 00'],
    ['class not supported', '80 A4 04 0C 0B D2 50 00 00 02 56 49 54 41 4C 45', '6E 00'],
    ['logical channel 1 refused', '01 A4 04 0C 0B D2 50 00 00 02 56 49 54 41 4C 45', '68 81'],
    ['SELECT with an unknown P1', '00 A4 03 0C 02 20 01', '6A 86'],
    ['SELECT with an unknown P2', '00 A4 04 01 0B D2 50 00 00 02 56 49 54 41 4C 45', '6A 86'],
    ['READ BINARY with SFI bits 6-7 set', '00 B0 E1 00 00', '6A 86'],
    ['GET RESPONSE with P1-P2 not 00 and nothing pending', '00 C0 01 00 00', '69 85'],
    ['unknown AID', '00 A4 04 0C 0B D2 50 00 00 02 56 49 54 41 4C 46', '6A 82'],
    ['AID prefix only', '00 A4 04 0C 05 D2 50 00 00 02', '6A 82'],
    ['unknown file id', '00 A4 00 0C 02 2F 05', '6A 82'],
    ['EF under the current DF that is not there', '00 A4 02 0C 02 3F 00', '6A 82'],
    ['unknown path', '00 A4 08 0C 04 20 00 20 99', '6A 82'],
    ['odd path', '00 A4 08 0C 03 20 00 20', '6A 82'],
    ['unknown SFI', '00 B0 9D 00 00', '6A 82'],
    ['SFI 0', '00 B0 80 00 00', '6A 82'],
    ['file id of 3 bytes', '00 A4 00 0C 03 20 01 00', '67 00'],
    ['AID of 17 bytes', `00 A4 04 0C 11 ${'D2 '.repeat(17)}`, '67 00'],
    ['READ BINARY with data', '00 B0 9E 00 01 00 00', '67 00'],
    ['Lc larger than the data', '00 A4 04 0C 0B D2 50 00', '67 00'],
    ['header too short', '00 A4 04', '67 00'],
    ['empty APDU', '', '67 00'],
  ];
  it.each(cases)('%s: %s', (_what, command, expected) => {
    // A fresh card each time: the MF is current, so SFI 1E (EF DIR) exists.
    expect(swOf(new Vitale2Card(VITALE_PERSONAS['vitale:famille']), command)).toBe(expected);
  });

  it('READ BINARY by offset with no current EF answers 69 86, also after a reset', () => {
    const fresh = new Vitale2Card(VITALE_PERSONAS['vitale:famille']);
    expect(swOf(fresh, '00 B0 00 00 10')).toBe('69 86');
    expect(swOf(fresh, '00 A4 04 0C 0B D2 50 00 00 02 56 49 54 41 4C 45')).toBe('90 00');
    expect(swOf(fresh, '00 B0 00 00 10')).toBe('69 86'); // a DF is current, not an EF
    expect(swOf(fresh, '00 A4 02 0C 02 20 01')).toBe('90 00');
    expect(swOf(fresh, '00 B0 00 00 10')).toBe('90 00');
    fresh.reset();
    expect(swOf(fresh, '00 B0 00 00 10')).toBe('69 86');
    expect(swOf(fresh, '00 B0 81 00 10')).toBe('6A 82'); // back at the MF: SFI 1 is not there
  });

  it('keeps SFIs per application: SFI 1E is EF DIR under MF_VITALE only', () => {
    const fresh = new Vitale2Card(VITALE_PERSONAS['vitale:famille']);
    expect(swOf(fresh, '00 A4 04 0C 0E D2 50 00 00 02 4D 46 5F 56 49 54 41 4C 45')).toBe('90 00');
    expect(hex(raw(fresh, '00 B0 9E 00 02').data)).toBe('61 1B');
    expect(swOf(fresh, '00 A4 04 0C 0B D2 50 00 00 02 56 49 54 41 4C 45')).toBe('90 00');
    expect(swOf(fresh, '00 B0 9E 00 02')).toBe('6A 82');
  });
});
