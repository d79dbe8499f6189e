// The PIN page's HTML: French first, English after; plain, accessible (labels, lang, role=alert),
// self-contained (one inline stylesheet allowed by its hash, nothing loaded from anywhere), and the
// response headers that go with it (CSP with frame-ancestors 'none', no caching, referrer only within the agent's origin).
import { createHash } from 'node:crypto';
import type { PinPrompt, PromptEnd, RetryReason } from './prompts.js';

const STYLE =
  'body{font-family:system-ui,sans-serif;max-width:34rem;margin:2rem auto;padding:0 1rem;line-height:1.5;color:#111;background:#fff}' +
  'h1{font-size:1.4rem}.en{color:#444;font-size:.92em}.origin{font-weight:bold;word-break:break-all}' +
  'label{display:block;margin-top:1rem;font-weight:bold}input[type=password]{font-size:1.4rem;width:12rem;padding:.3rem}' +
  '.alert{border:2px solid #b00020;padding:.5rem .8rem;margin:1rem 0}.warn{border:2px solid #8a5a00;padding:.5rem .8rem;margin:1rem 0}' +
  'button{font-size:1.05rem;margin:1.2rem .8rem 0 0;padding:.4rem 1rem}';

const STYLE_HASH = createHash('sha256').update(STYLE, 'utf8').digest('base64');

/** Content-Security-Policy of every page under /pin/. */
export const PIN_PAGE_CSP = `default-src 'none'; style-src 'sha256-${STYLE_HASH}'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`;

export function pinPageHeaders(): Record<string, string> {
  return {
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Security-Policy': PIN_PAGE_CSP,
    'X-Frame-Options': 'DENY',
    'X-Content-Type-Options': 'nosniff',
    // same-origin, not no-referrer: with no-referrer Chromium posts the form with `Origin: null`,
    // which the same-origin check must refuse. Nothing leaves the agent's origin either way.
    'Referrer-Policy': 'same-origin',
    'Cache-Control': 'no-store, max-age=0',
    Pragma: 'no-cache',
    Expires: '0',
  };
}

/** What a call asked the PIN for, as the page tells the user. */
export const PURPOSES: Record<string, { fr: string; en: string }> = {
  'cps.verifyPin': { fr: 'vérifier votre code porteur', en: 'verify your PIN' },
  'cps.changePin': { fr: 'changer votre code porteur', en: 'change your PIN' },
  'cps.unblockPin': { fr: 'débloquer votre code porteur', en: 'unblock your PIN' },
  'cps.getActivities': { fr: 'lire vos activités', en: 'read your activities' },
  'cps.sign': { fr: 'signer un document', en: 'sign a document' },
  'cps.authenticate': { fr: 'vous authentifier', en: 'authenticate you' },
  'cps.decrypt': { fr: 'déchiffrer un message', en: 'decrypt a message' },
};

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title: string, body: string): string {
  return (
    '<!DOCTYPE html>\n<html lang="fr"><head><meta charset="utf-8">' +
    '<meta name="viewport" content="width=device-width, initial-scale=1">' +
    '<meta name="referrer" content="same-origin">' +
    `<title>${escapeHtml(title)}</title><style>${STYLE}</style></head>` +
    `<body><main>${body}</main></body></html>\n`
  );
}

const tries = (n: number) => ({
  fr: `${n} essai${n > 1 ? 's' : ''} restant${n > 1 ? 's' : ''} avant blocage`,
  en: `${n} ${n > 1 ? 'tries' : 'try'} left before the PIN blocks`,
});

const RETRY: Record<RetryReason, { fr: string; en: string }> = {
  incorrect: { fr: 'Code incorrect.', en: 'Incorrect PIN.' },
  format: { fr: 'Format du code invalide (chiffres uniquement, longueur attendue par la carte). Aucun essai n’a été décompté.', en: 'Invalid PIN format (digits only, the length the card expects). No try was used.' },
  mismatch: { fr: 'Les deux saisies du nouveau code diffèrent.', en: 'The two entries of the new PIN differ.' },
};

interface Field {
  readonly name: string;
  readonly fr: string;
  readonly en: string;
}

const FIELDS: Record<PinPrompt['kind'], readonly Field[]> = {
  verify: [{ name: 'pin', fr: 'Code porteur', en: 'PIN' }],
  change: [
    { name: 'pin', fr: 'Code porteur actuel', en: 'Current PIN' },
    { name: 'newPin', fr: 'Nouveau code porteur', en: 'New PIN' },
    { name: 'newPinConfirm', fr: 'Nouveau code porteur (confirmation)', en: 'New PIN (again)' },
  ],
  unblock: [
    { name: 'puk', fr: 'Code de déblocage (PUK)', en: 'Unblocking code (PUK)' },
    { name: 'newPin', fr: 'Nouveau code porteur', en: 'New PIN' },
    { name: 'newPinConfirm', fr: 'Nouveau code porteur (confirmation)', en: 'New PIN (again)' },
  ],
};

export const PROMPT_FIELDS: Record<PinPrompt['kind'], readonly string[]> = {
  verify: FIELDS.verify.map((f) => f.name),
  change: FIELDS.change.map((f) => f.name),
  unblock: FIELDS.unblock.map((f) => f.name),
};

/** The form of an open prompt. */
export function renderPromptForm(prompt: PinPrompt, purposeKey: string): string {
  const purpose = PURPOSES[purposeKey] ?? PURPOSES['cps.verifyPin']!;
  const origin = escapeHtml(prompt.origin);
  const reader = escapeHtml(prompt.reader);
  const t = tries(prompt.triesRemaining);
  const parts: string[] = [];
  parts.push('<h1>Code porteur de votre carte CPS <span class="en" lang="en">— Your CPS card PIN</span></h1>');
  parts.push(
    `<p>Le site ou l’application <span class="origin">${origin}</span> demande votre code porteur pour ${escapeHtml(purpose.fr)}.` +
      ` Carte dans le lecteur « ${reader} ».</p>`,
  );
  parts.push(`<p class="en" lang="en"><span class="origin">${origin}</span> asks for your PIN to ${escapeHtml(purpose.en)}. Card in reader “${reader}”.</p>`);
  parts.push('<p>Ne saisissez votre code que si vous êtes à l’origine de cette demande. <span class="en" lang="en">Only enter your PIN if you started this request.</span></p>');
  if (prompt.retryReason) {
    const r = RETRY[prompt.retryReason];
    parts.push(`<div class="alert" role="alert" id="status"><p>${r.fr} ${t.fr}.</p><p class="en" lang="en">${r.en} ${t.en}.</p></div>`);
  } else {
    parts.push(`<p id="status">${t.fr}. <span class="en" lang="en">${t.en}.</span></p>`);
  }
  if (prompt.lastTry || prompt.triesRemaining === 1) {
    parts.push(
      '<div class="warn" role="alert"><p>Attention : dernier essai. Un code faux bloquera la carte.</p>' +
        '<p class="en" lang="en">Warning: last try. A wrong PIN will block the card.</p></div>',
    );
  }
  parts.push(`<form method="post" action="${escapeHtml(prompt.path)}" autocomplete="off">`);
  parts.push(`<input type="hidden" name="csrf" value="${escapeHtml(prompt.csrf)}">`);
  FIELDS[prompt.kind].forEach((f, i) => {
    const id = `f-${f.name}`;
    parts.push(
      `<label for="${id}">${f.fr} <span class="en" lang="en">(${f.en})</span></label>` +
        `<input type="password" id="${id}" name="${f.name}" inputmode="numeric" autocomplete="off" maxlength="16" aria-describedby="status"${i === 0 ? ' autofocus' : ''}>`,
    );
  });
  parts.push(
    '<div><button type="submit" name="action" value="submit">Valider <span lang="en">/ OK</span></button>' +
      '<button type="submit" name="action" value="cancel" formnovalidate>Annuler <span lang="en">/ Cancel</span></button></div>',
  );
  parts.push('</form>');
  return page('Code porteur — cardbridge', parts.join('\n'));
}

const ENDINGS: Record<PromptEnd, { fr: string; en: string }> = {
  done: { fr: 'C’est fait. Vous pouvez fermer cette fenêtre.', en: 'Done. You may close this window.' },
  cancelled: { fr: 'Demande annulée. Vous pouvez fermer cette fenêtre.', en: 'Request cancelled. You may close this window.' },
  timeout: { fr: 'Délai dépassé : la demande a expiré. Vous pouvez fermer cette fenêtre.', en: 'Timed out: the request expired. You may close this window.' },
  withdrawn: {
    fr: 'La demande a été retirée : l’application qui l’avait faite s’est déconnectée. Aucun code n’a été vérifié.',
    en: 'The request was withdrawn: the application that made it disconnected. No PIN was verified.',
  },
  'card-removed': { fr: 'La carte a été retirée du lecteur : demande abandonnée.', en: 'The card was removed from the reader: request abandoned.' },
  blocked: { fr: 'Code bloqué : débloquez-le avec le code de déblocage (PUK).', en: 'PIN blocked: unblock it with the PUK.' },
  failed: { fr: 'L’opération a échoué.', en: 'The operation failed.' },
};

/** The page of an ended prompt. */
export function renderEnded(end: PromptEnd, extra?: { fr: string; en: string }): string {
  const e = ENDINGS[end];
  const more = extra ? `<p>${escapeHtml(extra.fr)}</p><p class="en" lang="en">${escapeHtml(extra.en)}</p>` : '';
  return page(
    'Code porteur — cardbridge',
    `<h1>Code porteur <span class="en" lang="en">— PIN</span></h1><div role="status"><p>${e.fr}</p><p class="en" lang="en">${e.en}</p>${more}</div>`,
  );
}

/** A refusal (404, 403, 409…). */
export function renderMessage(fr: string, en: string): string {
  return page('cardbridge', `<h1>cardbridge</h1><div role="alert"><p>${escapeHtml(fr)}</p><p class="en" lang="en">${escapeHtml(en)}</p></div>`);
}
