// The attachment of the messaging tests.

/** A small but real PDF (one page), so the attachment is what a practitioner would send. */
export function samplePdf(): Uint8Array {
  const text = [
    '%PDF-1.4',
    '1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj',
    '2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj',
    '3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >> endobj',
    'trailer << /Root 1 0 R >>',
    '%%EOF',
    '',
  ].join('\n');
  const bytes = new Uint8Array(Buffer.from(text, 'latin1'));
  // binary bytes as PDFs have after the header comment
  return new Uint8Array([...bytes.subarray(0, 9), 0x25, 0xe2, 0xe3, 0xcf, 0xd3, 0x0a, ...bytes.subarray(9)]);
}
