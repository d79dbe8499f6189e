// Helpers shared by the practitioner page and the patient portal (plain ES module, no
// dependency): elements, messages, dates in French, downloads.

/** The element matching `selector` (throws when the page lacks it: a mistake of ours). */
export function $(selector, root = document) {
  const element = root.querySelector(selector);
  if (!element) throw new Error(`élément absent de la page : ${selector}`);
  return element;
}

export function show(element, visible = true) {
  element.hidden = !visible;
}

/** The service's public URL (DPoP proofs name it), from the page's <meta>. */
export function baseUrl() {
  const meta = document.querySelector('meta[name="dmp-base-url"]');
  return (meta?.getAttribute('content') || window.location.origin).replace(/\/+$/, '');
}

/** Shows an error in the page's alert region (replacing the previous one). */
export function showError(error) {
  $('#messages').textContent = describeError(error);
}

export function clearError() {
  $('#messages').textContent = '';
}

/** A French sentence for any error: the service's problem (title, detail, code), the agent's, or a plain one. */
export function describeError(error) {
  if (error && typeof error === 'object') {
    const code = typeof error.code === 'string' ? error.code : undefined;
    if (typeof error.title === 'string' && error.title !== '') {
      const detail = typeof error.detail === 'string' && error.detail !== '' && error.detail !== error.title ? ` : ${error.detail}` : '';
      return `${error.title}${detail}${code ? ` (${code})` : ''}`;
    }
    if (typeof error.message === 'string') return `${error.message}${code ? ` (${code})` : ''}`;
  }
  return String(error);
}

/** Runs an action triggered by the user: errors go to the alert region, the button is disabled meanwhile. */
export async function act(button, action) {
  clearError();
  const wasDisabled = button ? button.disabled : false;
  if (button) button.disabled = true;
  try {
    return await action();
  } catch (error) {
    showError(error);
    return undefined;
  } finally {
    if (button) button.disabled = wasDisabled;
  }
}

const DATE_TIME = new Intl.DateTimeFormat('fr-FR', { dateStyle: 'short', timeStyle: 'short' });
const DATE = new Intl.DateTimeFormat('fr-FR', { dateStyle: 'long', timeZone: 'UTC' });

export function dateTime(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? String(iso ?? '') : DATE_TIME.format(date);
}

/** A calendar date (YYYY-MM-DD) in words. */
export function calendarDate(ymd) {
  const date = new Date(`${ymd}T00:00:00Z`);
  return Number.isNaN(date.getTime()) ? String(ymd ?? '') : DATE.format(date);
}

/**
 * Saves bytes as a file. The type is forced to application/octet-stream: a document (CDA, XHTML)
 * may carry script, and must never be rendered in this origin.
 */
export function saveBytes(bytes, filename) {
  const url = URL.createObjectURL(new Blob([bytes], { type: 'application/octet-stream' }));
  const link = document.createElement('a');
  link.href = url;
  link.download = filename;
  link.rel = 'noopener';
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** A table cell with text. */
export function cell(text) {
  const td = document.createElement('td');
  td.textContent = text;
  return td;
}

/** A button (type=button) with a label, an accessible name and a click action. */
export function button(label, accessibleName, onClick, className) {
  const b = document.createElement('button');
  b.type = 'button';
  b.textContent = label;
  if (accessibleName && accessibleName !== label) b.setAttribute('aria-label', accessibleName);
  if (className) b.className = className;
  b.addEventListener('click', () => onClick(b));
  return b;
}

/** The page's scripts ran: the loading notice goes away. */
export function ready() {
  document.getElementById('chargement')?.remove();
}
