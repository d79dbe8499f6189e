// The patient portal: activation with the code handed over at the DMP's creation, login with the
// INS + secret code + the one-time code sent by SMS or e-mail, then the patient's documents
// (download, mask / unmask), the practitioners he authorised or blocked, his oppositions and the
// traces of every access. Talks to /v1/portal/* of this service; the session token stays in
// this page's memory only.
import { $, act, baseUrl, button, cell, clearError, dateTime, ready, saveBytes, show } from './commun.js';

const session = { token: null, otpRequestId: null, ins: null };

class PortalError extends Error {
  constructor(problem, status) {
    super(problem?.detail ?? problem?.title ?? `HTTP ${status}`);
    this.title = problem?.title ?? '';
    this.detail = problem?.detail ?? '';
    this.code = problem?.code;
    this.status = status;
  }
}

/** A call to the portal API: JSON in and out, Bearer session, problem details as PortalError. */
async function api(method, path, { body, bytes } = {}) {
  const headers = {};
  if (session.token) headers.Authorization = `Bearer ${session.token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(`${baseUrl()}${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  if (!response.ok) {
    const problem = await response.json().catch(() => undefined);
    if (response.status === 401 && session.token) endSession('Votre session a pris fin : reconnectez-vous.');
    throw new PortalError(problem, response.status);
  }
  if (bytes) return { bytes: new Uint8Array(await response.arrayBuffer()), disposition: response.headers.get('content-disposition') };
  return response.status === 204 ? undefined : response.json();
}

function insOf(oidSelector, valueSelector) {
  return { oid: $(oidSelector).value, value: $(valueSelector).value.replace(/\s+/g, '') };
}

function setStatus(text) {
  $('#etat').textContent = text;
}

// --- activation -------------------------------------------------------------------------------

$('#activation').addEventListener('submit', (event) => {
  event.preventDefault();
  void act(event.submitter, async () => {
    const secretCode = $('#activation-secret').value;
    if (secretCode !== $('#activation-secret2').value) throw new Error('Les deux codes secrets saisis diffèrent.');
    const ins = insOf('#activation-oid', '#activation-ins');
    const kind = document.querySelector('input[name="contact"]:checked')?.value ?? 'sms';
    const result = await api('POST', '/v1/portal/activate', {
      body: { ins, activationCode: $('#activation-code').value.trim(), secretCode, contact: { kind, value: $('#activation-contact').value.trim() } },
    });
    $('#activation').reset();
    $('#connexion-oid').value = ins.oid;
    $('#connexion-ins').value = ins.value;
    setStatus(`Accès activé. Vos codes de connexion seront envoyés à ${result.contact.hint}. Connectez-vous ci-dessus avec votre code secret.`);
    $('#connexion-secret').focus();
  });
});

// --- login ------------------------------------------------------------------------------------

$('#connexion').addEventListener('submit', (event) => {
  event.preventDefault();
  void act(event.submitter, async () => {
    const ins = insOf('#connexion-oid', '#connexion-ins');
    const step = await api('POST', '/v1/portal/login', { body: { ins, secretCode: $('#connexion-secret').value } });
    session.otpRequestId = step.otpRequestId;
    session.ins = ins;
    $('#connexion-secret').value = '';
    const channel = step.channel === 'email' ? 'par courriel' : 'par SMS';
    $('#otp-envoi').textContent = `Un code à 6 chiffres vous a été envoyé ${channel} (${step.contactHint}). Il est valable jusqu’à ${dateTime(step.expiresAt)}.`;
    show($('#code-otp'));
    $('#otp').focus();
  });
});

$('#code-otp').addEventListener('submit', (event) => {
  event.preventDefault();
  void act(event.submitter, async () => {
    const result = await api('POST', '/v1/portal/login/verify', { body: { otpRequestId: session.otpRequestId, otp: $('#otp').value.trim() } });
    session.token = result.sessionToken;
    session.otpRequestId = null;
    $('#code-otp').reset();
    show($('#code-otp'), false);
    show($('#hors-session'), false);
    show($('#session'));
    setStatus('Vous êtes connecté à votre DMP.');
    await loadAccount();
  });
});

function endSession(message) {
  session.token = null;
  show($('#session'), false);
  show($('#hors-session'));
  setStatus(message);
}

$('#deconnexion').addEventListener('click', (event) =>
  void act(event.currentTarget, async () => {
    await api('POST', '/v1/portal/logout').catch(() => {});
    endSession('Vous êtes déconnecté.');
  }),
);

// --- the account ------------------------------------------------------------------------------

async function loadAccount() {
  const me = await api('GET', '/v1/portal/me');
  $('#moi').textContent = `INS ${me.ins.value} — codes envoyés à ${me.contact.hint ?? '—'}.`;
  $('#opposition-bdg').checked = me.oppositions.brisDeGlace;
  $('#opposition-c15').checked = me.oppositions.centre15;
  await loadDocuments();
  await loadAuthorizations();
  await loadTraces();
}

async function loadDocuments() {
  const page = await api('GET', '/v1/portal/documents?limit=100');
  const body = $('#documents tbody');
  body.replaceChildren();
  for (const d of page.documents) {
    const row = document.createElement('tr');
    const actions = document.createElement('td');
    actions.append(
      button('Télécharger', `Télécharger « ${d.title} »`, (b) => void act(b, () => download(d)), 'secondaire'),
      d.masquePs
        ? button('Ne plus masquer', `Ne plus masquer « ${d.title} » aux professionnels`, (b) => void act(b, () => mask(d, false)))
        : button('Masquer aux professionnels', `Masquer « ${d.title} » aux professionnels`, (b) => void act(b, () => mask(d, true))),
    );
    const author = d.author.kind === 'patient' ? 'moi' : d.author.name;
    const visibility = d.masquePs ? 'masqué aux professionnels (sauf son auteur et votre médecin traitant)' : 'visible par les professionnels autorisés';
    row.append(cell(d.title), cell(d.typeLabel), cell(author), cell(dateTime(d.creationTime)), cell(visibility), actions);
    body.append(row);
  }
  show($('#documents'), page.documents.length > 0);
  show($('#aucun-document'), page.documents.length === 0);
}

async function download(d) {
  const { bytes } = await api('GET', `/v1/portal/documents/${encodeURIComponent(d.id)}/content`, { bytes: true });
  const extension = d.mimeType === 'application/pdf' ? 'pdf' : 'xml';
  saveBytes(bytes, `${d.title.replace(/[^\p{L}\p{N} ._-]+/gu, '_').slice(0, 80)}.${extension}`);
}

async function mask(d, masked) {
  await api('POST', `/v1/portal/documents/${encodeURIComponent(d.id)}/${masked ? 'mask' : 'unmask'}`);
  setStatus(masked ? `« ${d.title} » est masqué aux professionnels.` : `« ${d.title} » est de nouveau visible par les professionnels autorisés.`);
  await loadDocuments();
  await loadTraces();
}

const AUTHORIZATION_LABELS = { granted: 'autorisé', expired: 'autorisation expirée', denied: 'non autorisé' };

function practitionerName(a) {
  const p = a.practitioner;
  return p ? `${p.givenName} ${p.surname}, ${p.professionLabel}` : a.practitionerId;
}

async function loadAuthorizations() {
  const result = await api('GET', '/v1/portal/authorizations');
  const body = $('#autorisations tbody');
  body.replaceChildren();
  for (const a of result.authorizations) {
    const name = practitionerName(a);
    const row = document.createElement('tr');
    const status = a.blocked ? 'bloqué : ne voit rien de votre DMP' : `${AUTHORIZATION_LABELS[a.status] ?? a.status}${a.medecinTraitant ? ' — médecin traitant' : ''}`;
    const actions = document.createElement('td');
    const decide = (label, body) => button(label, `${label} : ${name}`, (b) => void act(b, () => authorize(a, body)), 'secondaire');
    if (a.blocked) actions.append(decide('Débloquer', { status: 'denied', blocked: false }));
    else {
      if (a.status !== 'granted') actions.append(decide('Autoriser', { status: 'granted' }));
      else actions.append(decide('Retirer l’autorisation', { status: 'denied' }));
      actions.append(decide('Bloquer', { status: 'denied', blocked: true }));
    }
    row.append(cell(name), cell(status), actions);
    body.append(row);
  }
  show($('#autorisations'), result.authorizations.length > 0);
  show($('#aucune-autorisation'), result.authorizations.length === 0);
}

async function authorize(a, decision) {
  await api('PUT', '/v1/portal/authorizations', { body: { practitionerId: a.practitionerId, ...decision } });
  setStatus(`Décision enregistrée pour ${practitionerName(a)}.`);
  await loadAuthorizations();
  await loadTraces();
}

$('#oppositions').addEventListener('submit', (event) => {
  event.preventDefault();
  void act(event.submitter, async () => {
    const result = await api('PUT', '/v1/portal/oppositions', { body: { brisDeGlace: $('#opposition-bdg').checked, centre15: $('#opposition-c15').checked } });
    setStatus(
      `Oppositions enregistrées : bris de glace ${result.brisDeGlace ? 'refusé' : 'permis'}, centre 15 ${result.centre15 ? 'refusé' : 'permis'}.`,
    );
    await loadTraces();
  });
});

async function loadTraces() {
  const page = await api('GET', '/v1/portal/traces?limit=200');
  const body = $('#traces tbody');
  body.replaceChildren();
  for (const t of page.traces) {
    const row = document.createElement('tr');
    row.append(cell(dateTime(t.at)), cell(t.actor?.label ?? ''), cell(t.actionLabel ?? t.action), cell(t.modeLabel ?? t.mode), cell(t.resultLabel ?? t.result));
    if (t.mode && t.mode !== 'normal' && t.mode !== 'portal') row.className = 'urgence';
    body.append(row);
  }
}

$('#rafraichir-traces').addEventListener('click', (event) => void act(event.currentTarget, loadTraces));

clearError();
ready();
