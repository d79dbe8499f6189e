// The practitioner page: the agent (pairing), the patient's Vitale card, the CPS login to the DMP
// (PIN typed in the agent's own window), the patient's DMP (creation with consent, the patient's
// authorisation), documents (list, download, send a PDF signed by the card) and break-glass.
// Uses the client libraries' browser bundles (cardbridge/agent-client, cardbridge/dmp-client).
import { AgentClient } from './agent-client.js';
import { DmpClient, DmpError } from './dmp-client.js';
import { $, act, baseUrl, button, calendarDate, cell, dateTime, ready, saveBytes, show, showError } from './commun.js';

const SCOPES = ['cps.read', 'cps.authenticate', 'cps.sign', 'vitale.read'];
const INS_C_OID = '1.2.250.1.213.1.4.2';
const AGENT_URL = /^ws:\/\/(127\.0\.0\.1|localhost)(:\d{1,5})?\/v1$/;
const AUTHORIZATION_LABELS = {
  none: 'aucune',
  granted: 'accordée',
  expired: 'expirée',
  denied: 'refusée',
};
const STATUS_LABELS = { approved: 'validé', deprecated: 'remplacé', archived: 'archivé', deleted: 'supprimé' };
const MODE_LABELS = { normal: '', bris_de_glace: 'Accès en bris de glace', centre_15: 'Accès centre 15' };

const state = {
  /** @type {AgentClient | null} */
  agent: null,
  /** @type {DmpClient | null} */
  dmp: null,
  /** The beneficiaries read from the Vitale card. */
  beneficiaries: [],
  /** The DMP shown (an INS object) once it was opened. */
  ins: null,
  /** Whether the agent holds a verified PIN for this page (last known). */
  pinVerified: false,
  /** The access mode of the reads ({ mode, reason }) once break-glass was used for this DMP. */
  access: undefined,
  /** The prompt waiting for a click when no window was prepared. */
  pendingPrompt: null,
};

// --- 1. agent ---------------------------------------------------------------------------------

function agentUrlFromQuery() {
  const asked = new URLSearchParams(window.location.search).get('agent');
  if (asked && AGENT_URL.test(asked)) $('#agent-url').value = asked;
}

function onPinPrompt(prompt) {
  // no window prepared by a click (the PIN was thought verified): a button opens the agent's page
  state.pendingPrompt = prompt;
  show($('#saisie-pin'));
  $('#ouvrir-pin').focus();
}

$('#ouvrir-pin').addEventListener('click', () => {
  const prompt = state.pendingPrompt;
  state.pendingPrompt = null;
  show($('#saisie-pin'), false);
  if (!prompt) return;
  const url = new URL(prompt.url);
  const loopback = url.hostname === '127.0.0.1' || url.hostname === 'localhost' || url.hostname === '[::1]';
  if ((url.protocol === 'http:' || url.protocol === 'https:') && loopback) {
    window.open(url.href, '_blank', 'popup,width=480,height=640');
  }
});

async function connectAgent() {
  const url = $('#agent-url').value.trim();
  if (!AGENT_URL.test(url)) throw new Error('Adresse de l’agent attendue : ws://127.0.0.1:<port>/v1');
  if (state.agent) {
    await endDmpSession();
    await state.agent.close();
    state.agent = null;
  }
  $('#etat-agent').textContent = 'Connexion à l’agent…';
  const agent = await AgentClient.connect({ url, onPinPrompt });
  agent.on('connection', (event) => {
    if (event.state === 'reconnecting') $('#etat-agent').textContent = 'Connexion à l’agent perdue : nouvelle tentative…';
    else if (event.state === 'open') $('#etat-agent').textContent = 'Agent connecté.';
    else if (event.state === 'closed') $('#etat-agent').textContent = 'Agent déconnecté.';
  });
  let info = await agent.info();
  if (info.caller !== 'origin') {
    $('#origine-page').textContent = window.location.origin;
    $('#etat-agent').textContent = 'Appariement demandé : approuvez-le dans l’agent.';
    info = await agent.pairAndWait(SCOPES, {
      onCode: (code) => {
        $('#code-appariement').textContent = code;
        show($('#appariement'));
      },
    });
    show($('#appariement'), false);
  }
  state.agent = agent;
  $('#etat-agent').textContent = `Agent connecté (version ${info.version}) : cette page est appariée.`;
  await agent.subscribe(['readers.changed', 'card.inserted', 'card.removed']);
  agent.on('readers.changed', (event) => showReaders(event.readers));
  showReaders(await agent.readers());
  $('#lire-vitale').disabled = false;
  $('#connexion-cps').disabled = false;
}

const FAMILY_LABELS = { CPS3: 'carte CPS3', CPS4: 'carte CPS4', VITALE2: 'carte Vitale 2', VITALE1: 'carte Vitale 1', UNKNOWN: 'carte inconnue' };

function showReaders(readers) {
  const parts = (readers ?? []).map((r) => `${r.name} : ${r.card ? (FAMILY_LABELS[r.card.family] ?? r.card.family) : 'vide'}`);
  $('#lecteurs').textContent = parts.length === 0 ? 'Aucun lecteur de cartes.' : `Lecteurs — ${parts.join(' ; ')}`;
}

$('#connecter-agent').addEventListener('click', (event) => void act(event.currentTarget, connectAgent));

// --- 2. Vitale card ---------------------------------------------------------------------------

async function readVitale() {
  const result = await state.agent.vitale.read();
  state.beneficiaries = result.beneficiaries ?? [];
  const list = $('#liste-beneficiaires');
  list.replaceChildren();
  state.beneficiaries.forEach((b, index) => {
    const p = document.createElement('p');
    const input = document.createElement('input');
    input.type = 'radio';
    input.name = 'beneficiaire';
    input.id = `beneficiaire-${index}`;
    input.value = String(index);
    input.addEventListener('change', () => chooseBeneficiary(index));
    const label = document.createElement('label');
    label.htmlFor = input.id;
    const born = b.birthDate ? `, né(e) le ${calendarDate(b.birthDate)}` : '';
    label.textContent = `${b.givenName} ${b.surname}${born}`;
    p.append(input, ' ', label);
    list.append(p);
  });
  show($('#beneficiaires'), state.beneficiaries.length > 0);
  if (state.beneficiaries.length === 1) {
    $('#beneficiaire-0').checked = true;
    chooseBeneficiary(0);
  }
}

/** The NIR of the beneficiary himself: his own NIR; the insured's NIR only when he is the insured. */
function ownNirOf(b) {
  return b.ownNir ?? (b.quality === 0 ? b.nir : null);
}

function chooseBeneficiary(index) {
  const b = state.beneficiaries[index];
  if (!b) return;
  const nir = ownNirOf(b);
  $('#vitale-nom').textContent = `${b.givenName} ${b.surname}${b.birthSurname && b.birthSurname !== b.surname ? ` (née ${b.birthSurname})` : ''}`;
  $('#vitale-naissance').textContent = b.birthDate ? calendarDate(b.birthDate) : b.birthDateRaw;
  $('#vitale-nir').textContent = nir ? `${nir}${b.nirKeyValid === false ? ' (clé invalide)' : ''}` : 'pas de NIR propre sur la carte';
  $('#vitale-insc').textContent = b.insC ?? 'non calculable';
  show($('#identite-vitale'));
  const oid = $('#ins-oid').value;
  $('#ins-valeur').value = oid === INS_C_OID ? (b.insC ?? '') : (nir ?? '');
  fillTraits(b, nir);
  forgetDmp();
}

$('#ins-oid').addEventListener('change', () => {
  const checked = document.querySelector('input[name="beneficiaire"]:checked');
  if (checked) chooseBeneficiary(Number(checked.value));
  else forgetDmp();
});
$('#ins-valeur').addEventListener('input', forgetDmp);

/** The creation form, prefilled from the card and the NIR (sex, birthplace); the practitioner checks them. */
function fillTraits(b, nir) {
  $('#trait-nom').value = b.birthSurname ?? b.surname ?? '';
  $('#trait-prenoms').value = b.givenName ?? '';
  $('#trait-naissance').value = b.birthDate ?? '';
  if (nir && /^[12]/.test(nir)) $('#trait-sexe').value = nir[0] === '1' ? 'M' : 'F';
  $('#trait-lieu').value = nir && nir.length >= 10 ? nir.slice(5, 10) : '';
}

$('#lire-vitale').addEventListener('click', (event) => void act(event.currentTarget, readVitale));

// --- 3. CPS login -----------------------------------------------------------------------------

async function login() {
  const dmp = new DmpClient({ baseUrl: baseUrl(), agent: state.agent });
  $('#etat-connexion').textContent = 'Connexion en cours : saisissez votre code PIN dans la fenêtre de l’agent si elle le demande.';
  const result = await dmp.login();
  state.dmp = dmp;
  state.pinVerified = true;
  dmp.onSessionEnded(({ reason }) => {
    if (state.dmp !== dmp) return;
    state.dmp = null;
    state.pinVerified = false;
    const why = reason === 'card-removed' ? 'carte CPS retirée' : reason === 'expired' ? 'session expirée' : reason === 'logout' ? 'déconnexion' : 'agent déconnecté';
    $('#etat-connexion').textContent = `Session DMP terminée (${why}).`;
    loggedOutUi();
  });
  const p = result.practitioner;
  $('#etat-connexion').textContent = `Connecté au DMP : ${p.givenName} ${p.surname}, ${p.professionLabel} (${p.nationalId}).`;
  show($('#connexion-cps'), false);
  show($('#deconnexion-cps'));
  $('#consulter-dmp').disabled = false;
}

function loggedOutUi() {
  show($('#connexion-cps'));
  $('#connexion-cps').disabled = state.agent === null;
  show($('#deconnexion-cps'), false);
  $('#consulter-dmp').disabled = true;
  forgetDmp();
}

async function endDmpSession() {
  const dmp = state.dmp;
  state.dmp = null;
  if (dmp) await dmp.logout().catch(() => {});
  loggedOutUi();
}

$('#connexion-cps').addEventListener('click', (event) => {
  // synchronously, in the click: a window opened later would be blocked
  state.agent?.preparePinWindow();
  void act(event.currentTarget, login).then(() => {
    if (!state.dmp) $('#etat-connexion').textContent = 'Non connecté au DMP.';
  });
});
$('#deconnexion-cps').addEventListener('click', (event) =>
  void act(event.currentTarget, async () => {
    await endDmpSession();
    $('#etat-connexion').textContent = 'Déconnecté du DMP.';
  }),
);

// --- 4. the patient's DMP ---------------------------------------------------------------------

function currentIns() {
  const value = $('#ins-valeur').value.replace(/\s+/g, '');
  if (value === '') throw new Error('Lisez la carte Vitale ou saisissez l’INS du patient.');
  return { oid: $('#ins-oid').value, value };
}

/** Everything shown about a DMP goes when the patient or the session changes. */
function forgetDmp() {
  state.ins = null;
  state.access = undefined;
  for (const id of ['#etat-dmp', '#creation-dmp', '#autorisation', '#documents', '#aucun-document', '#envoi', '#bris-de-glace', '#activation']) show($(id), false);
  $('#mode-acces').textContent = '';
  $('#etat-envoi').textContent = '';
  $('#lister-documents').disabled = true;
}

function showPatient(ins, patient) {
  state.ins = ins;
  $('#dmp-statut').textContent = patient.status === 'closed' ? 'fermé' : 'ouvert';
  const blocked = patient.blocked ? ' — vous êtes bloqué par le patient' : '';
  $('#dmp-autorisation').textContent = `${AUTHORIZATION_LABELS[patient.authorization] ?? patient.authorization}${blocked}`;
  $('#dmp-medecin-traitant').textContent = patient.medecinTraitant ? 'vous' : patient.hasMedecinTraitant ? 'un autre médecin' : 'aucun déclaré';
  show($('#etat-dmp'));
  show($('#creation-dmp'), false);
  const active = patient.status !== 'closed';
  show($('#autorisation'), active && patient.authorization !== 'granted' && !patient.blocked);
  show($('#envoi'), active);
  show($('#bris-de-glace'), active && patient.authorization !== 'granted');
  $('#lister-documents').disabled = false;
}

async function openDmp() {
  forgetDmp();
  const ins = currentIns();
  try {
    showPatient(ins, await state.dmp.getPatient(ins));
  } catch (error) {
    if (error instanceof DmpError && error.code === 'PATIENT_NOT_FOUND') {
      state.ins = ins;
      show($('#creation-dmp'));
      $('#consentement').checked = false;
      return;
    }
    throw error;
  }
}

$('#consulter-dmp').addEventListener('click', (event) => void act(event.currentTarget, openDmp));

$('#creation-dmp').addEventListener('submit', (event) => {
  event.preventDefault();
  void act(event.submitter, async () => {
    if (!$('#consentement').checked) throw new Error('Le consentement du patient est obligatoire pour créer son DMP.');
    const ins = state.ins ?? currentIns();
    const traits = {
      birthSurname: $('#trait-nom').value.trim(),
      firstNames: $('#trait-prenoms').value.trim(),
      birthDate: $('#trait-naissance').value,
      sex: $('#trait-sexe').value,
      birthplaceCode: $('#trait-lieu').value.trim().toUpperCase(),
    };
    const created = await state.dmp.createPatient({ ins, traits, consent: true });
    showPatient(ins, created);
    $('#code-activation').textContent = created.activationCode;
    $('#activation-fin').textContent = created.activationExpiresAt ? dateTime(created.activationExpiresAt) : '—';
    show($('#activation'));
  });
});

$('#autorisation').addEventListener('submit', (event) => {
  event.preventDefault();
  void act(event.submitter, async () => {
    if (!$('#accord-patient').checked) throw new Error('Cochez la case une fois l’accord du patient recueilli.');
    const patient = await state.dmp.setAuthorization(state.ins, { status: 'granted' });
    state.access = undefined;
    showPatient(state.ins, patient);
    $('#accord-patient').checked = false;
  });
});

// --- 5. documents -----------------------------------------------------------------------------

async function listDocuments() {
  const page = await state.dmp.searchDocuments(state.ins, { limit: 100 }, state.access);
  const body = $('#documents tbody');
  body.replaceChildren();
  for (const d of page.documents) {
    const row = document.createElement('tr');
    const author = d.author?.name ?? '';
    const download = button('Télécharger', `Télécharger « ${d.title} »`, (b) => void act(b, () => downloadDocument(d)), 'secondaire');
    const actions = document.createElement('td');
    actions.append(download);
    row.append(cell(d.title ?? ''), cell(typeLabel(d.typeCode)), cell(author), cell(dateTime(d.creationTime)), cell(STATUS_LABELS[d.status] ?? d.status ?? ''), actions);
    body.append(row);
  }
  show($('#documents'), page.documents.length > 0);
  show($('#aucun-document'), page.documents.length === 0);
  $('#mode-acces').textContent = state.access ? `${MODE_LABELS[state.access.mode]} (tracé ; motif : ${state.access.reason})` : '';
}

/** The French name of a LOINC type, from the send form's list (the matrix's types). */
function typeLabel(typeCode) {
  const option = [...$('#doc-type').options].find((o) => o.value === typeCode);
  return option ? option.textContent : (typeCode ?? '');
}

async function downloadDocument(d) {
  const content = await state.dmp.getDocumentContent(d.id, state.access);
  saveBytes(content.bytes, content.filename ?? `document-${d.id}.${d.format === 'pdf' ? 'pdf' : 'xml'}`);
}

$('#lister-documents').addEventListener('click', (event) => void act(event.currentTarget, listDocuments));

$('#envoi').addEventListener('submit', (event) => {
  event.preventDefault();
  // the PIN may have to be typed again (agent restarted, idle timeout): prepare the window in the
  // user's gesture, unless it is known to be verified (a blank window would only flash)
  if (!state.pinVerified) state.agent?.preparePinWindow();
  $('#etat-envoi').textContent = '';
  void act(event.submitter, async () => {
    const file = $('#doc-fichier').files?.[0];
    if (!file) throw new Error('Choisissez un fichier PDF.');
    const pdf = new Uint8Array(await file.arrayBuffer());
    const type = $('#doc-type').selectedOptions[0];
    const sent = await state.dmp.sendPdf({
      ins: state.ins,
      pdf,
      title: $('#doc-titre').value.trim(),
      typeCode: type.value,
      classCode: type.dataset.class,
      ...($('#doc-invisible').checked ? { confidentiality: ['INVISIBLE_PATIENT'] } : {}),
    });
    state.pinVerified = (await state.agent.cps.pinStatus().catch(() => ({ verified: false }))).verified;
    $('#envoi').reset();
    $('#etat-envoi').textContent = `Document « ${sent.title} » signé et envoyé.`;
    await listDocuments().catch(showError);
  });
});

$('#bris-de-glace').addEventListener('submit', (event) => {
  event.preventDefault();
  void act(event.submitter, async () => {
    const reason = $('#motif-urgence').value.trim();
    if (reason === '') throw new Error('Le motif est obligatoire pour un accès en bris de glace.');
    state.access = { mode: 'bris_de_glace', reason };
    try {
      await listDocuments();
    } catch (error) {
      state.access = undefined;
      throw error;
    }
  });
});

agentUrlFromQuery();
ready();
