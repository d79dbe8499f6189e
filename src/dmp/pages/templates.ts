// The HTML of the pages, rendered on the server: plain, accessible French HTML (landmarks,
// headings, labelled fields, live regions), no inline script or style (the CSP forbids them);
// the behaviour is in ./assets/praticien.js and ./assets/portail.js. What a page needs to know of
// the service (its public URL) travels in <meta> elements.
import { documentClasses, documentTypes } from '../policy/index.js';
import { escapeHtml } from './escape.js';

export const PAGE_PATHS = { home: '/', practitioner: '/praticien', portal: '/portail' } as const;

/** INS OIDs a page offers, most useful first on this test platform. */
const INS_CHOICES: readonly { oid: string; label: string }[] = [
  { oid: '1.2.250.1.213.1.4.10', label: 'INS-NIR de test (1.2.250.1.213.1.4.10)' },
  { oid: '1.2.250.1.213.1.4.11', label: 'INS-NIR de démonstration (1.2.250.1.213.1.4.11)' },
  { oid: '1.2.250.1.213.1.4.8', label: 'INS-NIR (1.2.250.1.213.1.4.8)' },
  { oid: '1.2.250.1.213.1.4.2', label: 'INS-C, ancien identifiant calculé (1.2.250.1.213.1.4.2)' },
];

function insOptions(): string {
  return INS_CHOICES.map((c) => `<option value="${escapeHtml(c.oid)}">${escapeHtml(c.label)}</option>`).join('');
}

/** The document types of the authorisation matrix, grouped by class. */
function documentTypeOptions(): string {
  return documentClasses
    .map((c) => {
      const options = documentTypes
        .filter((t) => t.classCode === c.classCode)
        .map((t) => `<option value="${escapeHtml(t.typeCode)}" data-class="${escapeHtml(t.classCode)}">${escapeHtml(t.display)} (${escapeHtml(t.typeCode)})</option>`)
        .join('');
      return options === '' ? '' : `<optgroup label="${escapeHtml(c.display)}">${options}</optgroup>`;
    })
    .join('');
}

function layout(title: string, baseUrl: string, body: string, script?: string): string {
  return [
    '<!doctype html>',
    '<html lang="fr">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<meta name="dmp-base-url" content="${escapeHtml(baseUrl)}">`,
    `<title>${escapeHtml(title)}</title>`,
    '<link rel="stylesheet" href="/pages/pages.css">',
    script ? `<script type="module" src="/pages/${escapeHtml(script)}"></script>` : '',
    '</head>',
    '<body>',
    '<a class="skip" href="#contenu">Aller au contenu</a>',
    body,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

const LOADING =
  '<p id="chargement" class="note" role="status">Chargement de la page… Si ce message reste affiché, le navigateur n’exécute pas les scripts de la page, ' +
  'ou les bibliothèques clientes n’ont pas été construites sur le serveur (<code>npm run build:browser</code>).</p>';

export function homePage(baseUrl: string): string {
  return layout(
    'Service DMP — cardbridge',
    baseUrl,
    `<header><h1>Dossier Médical Partagé de test (cardbridge)</h1></header>
<main id="contenu">
<ul class="entrees">
<li><a href="${PAGE_PATHS.practitioner}">Espace professionnel de santé</a> : carte CPS, carte Vitale, DMP du patient (avec l’agent cardbridge du poste)</li>
<li><a href="${PAGE_PATHS.portal}">Portail patient</a> : mes documents, mes autorisations, l’historique des accès à mon DMP</li>
<li><a href="/openapi.json">Description de l’API (OpenAPI)</a></li>
</ul>
</main>`,
  );
}

export function practitionerPage(baseUrl: string): string {
  return layout(
    'Espace professionnel — DMP',
    baseUrl,
    `<header>
<h1>DMP — Espace professionnel de santé</h1>
<p>Cette page utilise l’agent cardbridge de votre poste pour lire la carte Vitale du patient et vous connecter au DMP avec votre carte CPS. Votre code PIN se saisit uniquement dans la fenêtre de l’agent, jamais dans cette page.</p>
</header>
<main id="contenu">
${LOADING}
<div id="messages" class="messages" role="alert" aria-live="assertive"></div>

<section id="etape-agent" aria-labelledby="titre-agent">
<h2 id="titre-agent">1. Agent cardbridge</h2>
<p><label for="agent-url">Adresse de l’agent</label>
<input id="agent-url" type="url" value="ws://127.0.0.1:24820/v1" size="32" spellcheck="false" autocomplete="off">
<button type="button" id="connecter-agent">Se connecter à l’agent</button></p>
<p id="etat-agent" role="status">Agent non connecté.</p>
<div id="appariement" hidden>
<p>Code d’appariement : <strong id="code-appariement" class="code" aria-live="polite"></strong></p>
<p>Vérifiez que l’agent affiche le même code pour l’origine <strong id="origine-page"></strong>, puis approuvez la demande dans la console de l’agent
(adresse donnée par <code>cardbridge agent console</code>, ou affichée par <code>npm run demo</code>) ou avec <code>cardbridge agent pair approve &lt;code&gt;</code>.</p>
</div>
<p id="lecteurs" class="note"></p>
</section>

<section id="etape-vitale" aria-labelledby="titre-vitale">
<h2 id="titre-vitale">2. Carte Vitale du patient</h2>
<p><button type="button" id="lire-vitale" disabled>Lire la carte Vitale</button></p>
<fieldset id="beneficiaires" hidden>
<legend>Bénéficiaire reçu en consultation</legend>
<div id="liste-beneficiaires"></div>
</fieldset>
<dl id="identite-vitale" class="fiche" hidden>
<dt>Patient</dt><dd id="vitale-nom"></dd>
<dt>Date de naissance</dt><dd id="vitale-naissance"></dd>
<dt>NIR (INS-NIR)</dt><dd id="vitale-nir"></dd>
<dt>INS-C</dt><dd id="vitale-insc"></dd>
</dl>
</section>

<section id="etape-cps" aria-labelledby="titre-cps">
<h2 id="titre-cps">3. Connexion au DMP avec la carte CPS</h2>
<p><button type="button" id="connexion-cps" disabled>Se connecter avec la carte CPS</button>
<button type="button" id="deconnexion-cps" hidden>Se déconnecter du DMP</button></p>
<p id="etat-connexion" role="status">Non connecté au DMP.</p>
<p id="saisie-pin" hidden>L’agent demande votre code PIN : <button type="button" id="ouvrir-pin">Saisir le code PIN dans la fenêtre de l’agent</button></p>
</section>

<section id="etape-dmp" aria-labelledby="titre-dmp">
<h2 id="titre-dmp">4. DMP du patient</h2>
<div class="ligne">
<p><label for="ins-oid">Identifiant (INS)</label>
<select id="ins-oid">${insOptions()}</select></p>
<p><label for="ins-valeur">Valeur</label>
<input id="ins-valeur" inputmode="numeric" size="24" spellcheck="false" autocomplete="off"></p>
</div>
<p class="note">L’INS doit être qualifié par le téléservice INSi ; le NIR lu sur la carte Vitale ne l’est pas à lui seul. Cette plateforme de test utilise l’OID INS-NIR de test.</p>
<p><button type="button" id="consulter-dmp" disabled>Consulter le DMP</button></p>
<dl id="etat-dmp" class="fiche" hidden>
<dt>État du DMP</dt><dd id="dmp-statut"></dd>
<dt>Votre autorisation par le patient</dt><dd id="dmp-autorisation"></dd>
<dt>Médecin traitant DMP</dt><dd id="dmp-medecin-traitant"></dd>
</dl>

<form id="creation-dmp" hidden>
<fieldset>
<legend>Créer le DMP du patient</legend>
<p>Ce patient n’a pas encore de DMP. Vérifiez son identité (traits INS) et recueillez son consentement.</p>
<div class="ligne">
<p><label for="trait-nom">Nom de naissance</label> <input id="trait-nom" required autocomplete="off"></p>
<p><label for="trait-prenoms">Prénoms de naissance</label> <input id="trait-prenoms" required autocomplete="off"></p>
</div>
<div class="ligne">
<p><label for="trait-naissance">Date de naissance</label> <input id="trait-naissance" type="date" required></p>
<p><label for="trait-sexe">Sexe</label> <select id="trait-sexe" required><option value="F">Féminin</option><option value="M">Masculin</option></select></p>
<p><label for="trait-lieu">Code INSEE du lieu de naissance</label> <input id="trait-lieu" required size="6" pattern="[0-9]{5}|2[AB][0-9]{3}" autocomplete="off"></p>
</div>
<p><input type="checkbox" id="consentement" required> <label for="consentement">Le patient a été informé et consent à la création de son DMP</label></p>
<p><button type="submit" id="creer-dmp">Créer le DMP</button></p>
</fieldset>
</form>
<div id="activation" class="encadre" hidden>
<p>DMP créé. Code d’activation de l’accès web du patient, à lui remettre imprimé (il n’est affiché qu’une fois) :</p>
<p class="code" id="code-activation"></p>
<p>Valable jusqu’au <span id="activation-fin"></span>. Le patient l’utilise sur le <a href="/portail">portail patient</a>.</p>
</div>

<form id="autorisation" hidden>
<fieldset>
<legend>Autorisation du patient</legend>
<p><input type="checkbox" id="accord-patient" required> <label for="accord-patient">Le patient, présent, m’autorise à consulter son DMP</label></p>
<p><button type="submit">Enregistrer l’autorisation</button></p>
</fieldset>
</form>
</section>

<section id="etape-documents" aria-labelledby="titre-documents">
<h2 id="titre-documents">5. Documents</h2>
<p><button type="button" id="lister-documents" disabled>Lister les documents</button></p>
<p id="mode-acces" class="note" role="status"></p>
<table id="documents" hidden>
<caption>Documents du DMP</caption>
<thead><tr><th scope="col">Titre</th><th scope="col">Type</th><th scope="col">Auteur</th><th scope="col">Date</th><th scope="col">Statut</th><th scope="col">Action</th></tr></thead>
<tbody></tbody>
</table>
<p id="aucun-document" hidden>Aucun document visible pour vous dans ce DMP.</p>

<form id="envoi" hidden>
<fieldset>
<legend>Envoyer un document (PDF, signé par votre carte CPS)</legend>
<p><label for="doc-titre">Titre</label> <input id="doc-titre" required maxlength="256" size="40"></p>
<p><label for="doc-type">Type de document</label> <select id="doc-type" required>${documentTypeOptions()}</select></p>
<p><label for="doc-fichier">Fichier PDF</label> <input id="doc-fichier" type="file" accept="application/pdf,.pdf" required></p>
<p><input type="checkbox" id="doc-invisible"> <label for="doc-invisible">Non visible par le patient avant une consultation d’annonce</label></p>
<p><button type="submit" id="envoyer-document">Signer et envoyer</button></p>
<p id="etat-envoi" role="status"></p>
</fieldset>
</form>

<form id="bris-de-glace" hidden>
<fieldset>
<legend>Accès en urgence (bris de glace)</legend>
<p>Sans autorisation du patient, en cas d’urgence seulement. L’accès est tracé ; le patient et son médecin traitant en sont informés.</p>
<p><label for="motif-urgence">Motif (obligatoire)</label><br>
<textarea id="motif-urgence" rows="2" cols="60" required maxlength="500"></textarea></p>
<p><button type="submit">Accéder en bris de glace</button></p>
</fieldset>
</form>
</section>
</main>`,
    'praticien.js',
  );
}

export function portalPage(baseUrl: string): string {
  return layout(
    'Mon DMP — portail patient',
    baseUrl,
    `<header>
<h1>Mon DMP — portail patient</h1>
<p>Votre dossier médical partagé : vos documents, qui peut les consulter, et l’historique des accès.</p>
</header>
<main id="contenu">
${LOADING}
<div id="messages" class="messages" role="alert" aria-live="assertive"></div>
<p id="etat" role="status"></p>

<div id="hors-session">
<section aria-labelledby="titre-connexion">
<h2 id="titre-connexion">Me connecter</h2>
<form id="connexion">
<div class="ligne">
<p><label for="connexion-oid">Type d’INS</label> <select id="connexion-oid">${insOptions()}</select></p>
<p><label for="connexion-ins">Mon INS (numéro de sécurité sociale)</label> <input id="connexion-ins" required inputmode="numeric" size="24" autocomplete="username"></p>
</div>
<p><label for="connexion-secret">Code secret</label> <input id="connexion-secret" type="password" required autocomplete="current-password"></p>
<p><button type="submit">Recevoir mon code de connexion</button></p>
</form>
<form id="code-otp" hidden>
<p id="otp-envoi"></p>
<p><label for="otp">Code reçu (6 chiffres)</label> <input id="otp" required inputmode="numeric" pattern="[0-9]{6}" maxlength="6" size="8" autocomplete="one-time-code"></p>
<p><button type="submit">Me connecter</button></p>
<details><summary>Environnement de test : où est le code ?</summary>
<p>Ce service de test n’envoie ni SMS ni courriel : le message attend dans sa boîte d’envoi (table <code>outbox</code>). Avec <code>npm run demo</code>, il s’affiche dans le terminal de la démonstration.</p>
</details>
</form>
</section>

<section aria-labelledby="titre-activation">
<h2 id="titre-activation">Première connexion : activer mon accès</h2>
<p>Avec le code d’activation remis par le professionnel de santé qui a créé votre DMP.</p>
<form id="activation">
<div class="ligne">
<p><label for="activation-oid">Type d’INS</label> <select id="activation-oid">${insOptions()}</select></p>
<p><label for="activation-ins">Mon INS</label> <input id="activation-ins" required inputmode="numeric" size="24" autocomplete="username"></p>
</div>
<p><label for="activation-code">Code d’activation</label> <input id="activation-code" required size="16" autocomplete="off"></p>
<div class="ligne">
<p><label for="activation-secret">Code secret choisi</label> <input id="activation-secret" type="password" required autocomplete="new-password" aria-describedby="aide-secret"></p>
<p><label for="activation-secret2">Code secret, à nouveau</label> <input id="activation-secret2" type="password" required autocomplete="new-password"></p>
</div>
<p id="aide-secret" class="note">Au moins 8 caractères, sans votre numéro ni une suite trop simple.</p>
<fieldset>
<legend>Recevoir mes codes de connexion par</legend>
<p><input type="radio" name="contact" id="contact-sms" value="sms" checked> <label for="contact-sms">SMS</label>
<input type="radio" name="contact" id="contact-email" value="email"> <label for="contact-email">courriel</label></p>
<p><label for="activation-contact">Numéro de mobile ou adresse électronique</label> <input id="activation-contact" required autocomplete="off"></p>
</fieldset>
<p><button type="submit">Activer mon accès</button></p>
</form>
</section>
</div>

<div id="session" hidden>
<p><span id="moi"></span> <button type="button" id="deconnexion">Me déconnecter</button></p>

<section aria-labelledby="titre-documents">
<h2 id="titre-documents">Mes documents</h2>
<table id="documents">
<caption>Documents de mon DMP</caption>
<thead><tr><th scope="col">Titre</th><th scope="col">Type</th><th scope="col">Auteur</th><th scope="col">Date</th><th scope="col">Visibilité</th><th scope="col">Actions</th></tr></thead>
<tbody></tbody>
</table>
<p id="aucun-document" hidden>Aucun document.</p>
</section>

<section aria-labelledby="titre-autorisations">
<h2 id="titre-autorisations">Professionnels autorisés</h2>
<table id="autorisations">
<caption>Qui peut consulter mon DMP</caption>
<thead><tr><th scope="col">Professionnel</th><th scope="col">Autorisation</th><th scope="col">Actions</th></tr></thead>
<tbody></tbody>
</table>
<p id="aucune-autorisation" hidden>Aucun professionnel enregistré.</p>
</section>

<section aria-labelledby="titre-oppositions">
<h2 id="titre-oppositions">Mes oppositions</h2>
<form id="oppositions">
<p><input type="checkbox" id="opposition-bdg"> <label for="opposition-bdg">Je m’oppose à l’accès en urgence (bris de glace) par un professionnel que je n’ai pas autorisé</label></p>
<p><input type="checkbox" id="opposition-c15"> <label for="opposition-c15">Je m’oppose à l’accès par le médecin régulateur du centre 15 (SAMU)</label></p>
<p><button type="submit">Enregistrer mes oppositions</button></p>
</form>
</section>

<section aria-labelledby="titre-traces">
<h2 id="titre-traces">Historique des accès à mon DMP</h2>
<p><button type="button" id="rafraichir-traces">Actualiser</button></p>
<table id="traces">
<caption>Qui a fait quoi, et quand (le plus récent d’abord)</caption>
<thead><tr><th scope="col">Date</th><th scope="col">Qui</th><th scope="col">Action</th><th scope="col">Mode</th><th scope="col">Résultat</th></tr></thead>
<tbody></tbody>
</table>
</section>
</div>
</main>`,
    'portail.js',
  );
}
