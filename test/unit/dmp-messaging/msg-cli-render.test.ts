// `cardbridge msg`: the French renderings of list and read (the agent and service paths are
// covered by messaging-service.test.ts through the same routes).
import { describe, expect, it } from 'vitest';
import { renderList, renderRead } from '../../../src/cli/commands/msg.js';

describe('cardbridge msg output', () => {
  it('list: unread marked, sender or recipients, sizes, quota; empty mailbox', () => {
    const text = renderList({
      messages: [
        { id: 'a', folder: 'inbox', sender: '899900000101', recipients: ['899900000103'], date: '2025-03-12T09:30:00.000Z', size: 2048, read: false },
        { id: 'b', folder: 'sent', sender: '899900000103', recipients: ['899900000101'], date: '2025-03-12T10:00:00.000Z', size: 10, read: true },
      ],
      used: 2058,
      quota: 2 * 1024 * 1024 * 1024,
    });
    expect(text).toContain('* a');
    expect(text).toContain('de 899900000101');
    expect(text).toContain('à 899900000101');
    expect(text).toContain('2.0 Kio');
    expect(text).toContain('Boîte : 2.0 Kio utilisés sur 2048.0 Mio.');
    expect(renderList({ messages: [], used: 0, quota: 1 })).toContain('Aucun message.');
  });

  it('read: headers, body and attachments in French', () => {
    const text = renderRead({
      id: 'a',
      from: { nationalId: '99900000101', name: 'SOPHIE MARTIN' },
      to: [{ nationalId: '99900000103', name: 'CLAIRE PETIT' }],
      subject: 'Pansement',
      date: '2025-03-12T09:30:00.000Z',
      body: 'Bonjour',
      signer: 'SOPHIE MARTIN (99900000101)',
      signatureValid: true,
      attachments: [{ filename: 'ordonnance.pdf', mediaType: 'application/pdf', size: 12, savedTo: null }],
    });
    expect(text).toContain('De : SOPHIE MARTIN (99900000101)');
    expect(text).toContain('Objet : Pansement');
    expect(text).toContain('Signature : valide');
    expect(text).toContain('ordonnance.pdf (application/pdf, 12 o)');
  });
});
