// The DMP service's web pages in a real Chromium, end to end: the DMP service (SQLite, its own
// origin allowed), the agent over the native pcsclite mock with virtual cards (a doctor's CPS3
// and the DUPONT family's Vitale card), and the browser.
//   1. the doctor's page pairs with the agent (approved on the agent's console page), reads the
//      Vitale card, logs in with the CPS (PIN typed in the agent's popup), creates the DMP with
//      the patient's consent and sends two PDFs signed by the card;
//   2. a pédicure-podologue, without authorisation, reads by break-glass (with its reason): the
//      matrix keeps the discharge letter from her (absent from the index, 403 on direct read);
//      she then records the patient's authorisation and reads normally (the matrix still applies);
//   3. the patient activates the portal with the code shown at creation, logs in with the
//      one-time password read from the outbox, masks the letter, reads the traces of both
//      practitioners' accesses, opposes break-glass and blocks the podologue.
// Screenshots: test-results/browser/*.png.
import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CPS_PERSONAS } from '../../src/simulator/personas.js';
import { chromiumAvailable, CHROMIUM_HINT, collectPageErrors, launchChromium, screenshot, type TestBrowser } from '../support/browser.js';
import { DpopClient, openDmpTestPki, signAuthToken, type DmpTestPki } from '../support/dmp/index.js';
import { requireSystem } from '../support/system.js';
import {
  buildBundlesForPages,
  CPS_READER,
  otpFromOutbox,
  startMockAgent,
  startPagesService,
  type MockAgent,
  type PagesService,
} from './support.js';

const available = requireSystem('chromium', chromiumAvailable(), CHROMIUM_HINT);

const PIN = CPS_PERSONAS['cps:medecin'].pin;
const DUPONT_NIR = '178047511212393';
const TEST_OID = '1.2.250.1.213.1.4.10';
const SECRET_CODE = 'Tournesol-42!';
const PHONE = '06 12 34 56 78';

/** A small real PDF: what the practitioner attaches. */
function pdf(sentence: string): Buffer {
  return Buffer.from(`%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n% ${sentence}\ntrailer << /Root 1 0 R >>\n%%EOF\n`, 'latin1');
}

describe.skipIf(!available)('the DMP web pages in Chromium', () => {
  let pki: DmpTestPki;
  let service: PagesService;
  let agent: MockAgent;
  let browser: TestBrowser;
  let page: Page;
  let pageErrors: string[];
  let activationCode = '';
  let letterId = '';

  beforeAll(async () => {
    [pki] = await Promise.all([openDmpTestPki(), buildBundlesForPages()]);
    service = await startPagesService(pki);
    agent = await startMockAgent(pki, { cps: 'cps:medecin', vitale: 'vitale:famille' });
    browser = await launchChromium();
    page = await browser.context.newPage();
    pageErrors = collectPageErrors(page);
  });

  afterAll(async () => {
    await browser?.close();
    await agent?.close();
    await service?.close();
  });

  /** Clicks `name` in the practitioner page, types the PIN in the agent's popup and submits it. */
  async function clickAndTypePin(action: () => Promise<void>): Promise<Page> {
    const popupOpened = browser.context.waitForEvent('page');
    await action();
    const popup = await popupOpened;
    await popup.waitForURL(/\/pin\//);
    await expect.poll(() => popup.locator('h1').textContent()).toMatch(/Code porteur/);
    await popup.locator('input[type="password"]').first().fill(PIN);
    await screenshot(popup, '03-fenetre-pin-agent');
    await popup.getByRole('button', { name: /Valider/ }).click();
    if (!popup.isClosed()) {
      // KNOWN: the client library cleared the popup's opener, so Chromium refuses to let it
      // close the window once the call settled; the agent's page says so and the user closes it
      await expect.poll(() => (popup.isClosed() ? 'fermée' : popup.textContent('body'))).toMatch(/fermée|C’est fait/);
      await popup.close();
    }
    return popup;
  }

  async function messages(): Promise<string> {
    return (await page.locator('#messages').textContent()) ?? '';
  }

  it('serves the pages with their CSP: no inline script, no framing', async () => {
    for (const path of ['/', '/praticien', '/portail']) {
      const response = await fetch(`${service.url}${path}`);
      expect(response.status).toBe(200);
      const csp = response.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toContain('unsafe-inline');
      expect(response.headers.get('x-frame-options')).toBe('DENY');
      const html = await response.text();
      expect(html).toMatch(/^<!doctype html>\n<html lang="fr">/);
      expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/); // every script is an external file
      expect(html).not.toMatch(/\sstyle=|\son[a-z]+=/); // no inline style or handler
    }
    // plain accessible HTML: every field has a label, every button a name, one h1, French
    const probe = await browser.context.newPage();
    for (const path of ['/praticien', '/portail']) {
      await probe.goto(`${service.url}${path}`);
      const audit = await probe.evaluate(() => ({
        lang: document.documentElement.lang,
        h1: document.querySelectorAll('h1').length,
        unlabelled: Array.from(document.querySelectorAll('input:not([type=hidden]), select, textarea'))
          .filter((e) => (e as HTMLInputElement).labels?.length === 0 && !e.getAttribute('aria-label'))
          .map((e) => e.id),
        unnamedButtons: Array.from(document.querySelectorAll('button')).filter((b) => (b.textContent ?? '').trim() === '' && !b.getAttribute('aria-label')).length,
        alert: document.querySelector('#messages')?.getAttribute('role'),
      }));
      expect(audit).toEqual({ lang: 'fr', h1: 1, unlabelled: [], unnamedButtons: 0, alert: 'alert' });
    }
    await probe.close();

    const bundle = await fetch(`${service.url}/pages/dmp-client.js`);
    expect(bundle.status).toBe(200);
    expect(bundle.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect((await fetch(`${service.url}/pages/inconnu.js`)).status).toBe(404);
  });

  it('the doctor pairs the page with the agent: the code is approved on the agent console', async () => {
    await page.goto(`${service.url}/praticien?agent=${encodeURIComponent(agent.agent.url)}`);
    await expect.poll(() => page.locator('#chargement').count()).toBe(0);
    await page.getByRole('button', { name: 'Se connecter à l’agent' }).click();
    const code = page.locator('#code-appariement');
    await expect.poll(() => code.textContent(), { timeout: 10_000 }).toMatch(/^\d{6}$/);
    const pairingCode = (await code.textContent()) ?? '';
    await screenshot(page, '01-praticien-appariement');

    const consolePage = await browser.context.newPage();
    await consolePage.goto(agent.consoleUrl);
    expect(await consolePage.textContent('body')).toContain(service.url);
    await screenshot(consolePage, '02-console-agent');
    await consolePage.getByRole('button', { name: `Approuver ${service.url} (code ${pairingCode})` }).click();
    await consolePage.close();

    await expect.poll(() => page.locator('#etat-agent').textContent(), { timeout: 10_000 }).toContain('appariée');
    expect(await page.locator('#lecteurs').textContent()).toContain(`${CPS_READER} : carte CPS3`);
  });

  it('reads the Vitale card: the beneficiary, his NIR and INS-C', async () => {
    await page.getByRole('button', { name: 'Lire la carte Vitale' }).click();
    await page.getByLabel(/^JEAN DUPONT/).check();
    expect(await page.locator('#vitale-nir').textContent()).toBe(DUPONT_NIR);
    expect(await page.locator('#vitale-insc').textContent()).toMatch(/^\d{22}$/);
    expect(await page.locator('#ins-valeur').inputValue()).toBe(DUPONT_NIR);
    expect(await page.locator('#ins-oid').inputValue()).toBe(TEST_OID);
  });

  it('logs in with the CPS: the PIN is typed in the agent’s window, never in the page', async () => {
    await clickAndTypePin(() => page.getByRole('button', { name: 'Se connecter avec la carte CPS' }).click());
    await expect.poll(() => page.locator('#etat-connexion').textContent(), { timeout: 15_000 }).toContain('SOPHIE MARTIN');
    expect(await page.locator('#messages').textContent()).toBe('');
  });

  it('opens the patient’s DMP: none yet; created with his consent, the activation code shown once', async () => {
    await page.getByRole('button', { name: 'Consulter le DMP' }).click();
    await expect.poll(() => page.locator('#creation-dmp').isVisible()).toBe(true);
    // traits from the card and the NIR (sex, birthplace)
    expect(await page.locator('#trait-nom').inputValue()).toBe('DUPONT');
    expect(await page.locator('#trait-naissance').inputValue()).toBe('1978-04-15');
    expect(await page.locator('#trait-sexe').inputValue()).toBe('M');
    expect(await page.locator('#trait-lieu').inputValue()).toBe('75112');
    await page.getByLabel('Le patient a été informé et consent à la création de son DMP').check();
    await page.getByRole('button', { name: 'Créer le DMP' }).click();
    await expect.poll(() => page.locator('#code-activation').textContent()).toMatch(/\S{4}/);
    activationCode = (await page.locator('#code-activation').textContent()) ?? '';
    expect(await page.locator('#dmp-autorisation').textContent()).toBe('accordée'); // the creator is authorised
    await screenshot(page, '04-praticien-dmp-cree');
  });

  it('sends two PDFs wrapped as CDA N1 and signed by the card, lists and downloads them', async () => {
    const send = async (title: string, typeCode: string, file: string): Promise<void> => {
      await page.getByLabel('Titre', { exact: true }).fill(title);
      await page.getByLabel('Type de document').selectOption(typeCode);
      await page.getByLabel('Fichier PDF').setInputFiles({ name: file, mimeType: 'application/pdf', buffer: pdf(title) });
      await page.getByRole('button', { name: 'Signer et envoyer' }).click();
      await expect.poll(() => page.locator('#etat-envoi').textContent(), { timeout: 15_000 }).toBe(`Document « ${title} » signé et envoyé.`);
    };
    await send('Lettre de liaison de sortie', '11490-0', 'lettre.pdf');
    await send('Compte rendu de consultation', '11488-4', 'consultation.pdf');
    expect(await messages()).toBe('');
    const rows = page.locator('#documents tbody tr');
    await expect.poll(() => rows.count()).toBe(2);
    expect(await page.locator('#documents').textContent()).toContain('Lettre de liaison à la sortie d');
    await screenshot(page, '05-praticien-documents');

    const downloading = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Télécharger « Lettre de liaison de sortie »' }).click();
    const download = await downloading;
    letterId = /^document-([0-9a-f-]{36})\.xml$/.exec(download.suggestedFilename())?.[1] ?? '';
    expect(letterId).not.toBe('');
    const cda = readFileSync((await download.path()) ?? '', 'utf8');
    expect(cda).toContain('<ClinicalDocument');
    expect(cda).toContain(`extension="${DUPONT_NIR}"`);
    expect(cda).toContain(pdf('Lettre de liaison de sortie').toString('base64'));
    // stored with its detached CMS signature, checked by the service
    const stored = await service.store.records.getDocument(letterId);
    expect(stored).toMatchObject({ typeCode: '11490-0', authorId: '899900000101' });
  });

  it('a pédicure-podologue without authorisation reads by break-glass; the matrix keeps the discharge letter from her', async () => {
    await agent.swapCard(CPS_READER, 'cps:podologue');
    await expect.poll(() => page.locator('#etat-connexion').textContent(), { timeout: 10_000 }).toContain('carte CPS retirée');
    await expect.poll(() => page.getByRole('button', { name: 'Se connecter avec la carte CPS' }).isEnabled()).toBe(true);
    await clickAndTypePin(() => page.getByRole('button', { name: 'Se connecter avec la carte CPS' }).click());
    await expect.poll(() => page.locator('#etat-connexion').textContent(), { timeout: 15_000 }).toContain('JULIE MOREAU');

    await page.getByRole('button', { name: 'Consulter le DMP' }).click();
    await expect.poll(() => page.locator('#dmp-autorisation').textContent()).toBe('aucune');
    await page.getByRole('button', { name: 'Lister les documents' }).click();
    await expect.poll(messages).toContain('AUTHORIZATION_REQUIRED');

    // the reason is mandatory: the form does not go without it
    await page.getByRole('button', { name: 'Accéder en bris de glace' }).click();
    expect(await page.locator('#motif-urgence').evaluate((e: HTMLTextAreaElement) => e.validity.valueMissing)).toBe(true);
    await page.getByLabel('Motif (obligatoire)').fill('Patient inconscient aux urgences, plaie du pied');
    await page.getByRole('button', { name: 'Accéder en bris de glace' }).click();
    await expect.poll(() => page.locator('#mode-acces').textContent()).toContain('bris de glace');
    const table = page.locator('#documents');
    await expect.poll(() => table.textContent()).toContain('Compte rendu de consultation');
    expect(await table.textContent()).not.toContain('Lettre de liaison');
    await screenshot(page, '06-podologue-bris-de-glace');

    // the same refusal through the API: 403 MATRIX_DENIED on the letter itself
    const credentials = await pki.persona('cps:podologue');
    const client = await DpopClient.create(service.url);
    const challenge = await client.call<{ challenge: string }>('POST', '/v1/auth/challenge');
    const token = signAuthToken({
      certificateDer: credentials.authentication.certificateDer,
      privateKeyPkcs8Der: credentials.authentication.privateKeyPkcs8Der,
      origin: service.url,
      challenge: challenge.body.challenge,
    });
    const login = await client.call<{ sessionToken: string }>('POST', '/v1/auth/login', { body: { token } });
    expect(login.status).toBe(200);
    const read = await client.call<{ code: string }>('GET', `/v1/documents/${letterId}`, {
      sessionToken: login.body.sessionToken,
      headers: { 'X-Access-Mode': 'bris_de_glace', 'X-Access-Reason': 'urgence' },
    });
    expect([read.status, read.body.code]).toEqual([403, 'MATRIX_DENIED']);

    // the patient, present, agrees: recorded, then the normal reads work (the matrix still applies)
    await page.getByLabel('Le patient, présent, m’autorise à consulter son DMP').check();
    await page.getByRole('button', { name: 'Enregistrer l’autorisation' }).click();
    await expect.poll(() => page.locator('#dmp-autorisation').textContent()).toBe('accordée');
    await page.getByRole('button', { name: 'Lister les documents' }).click();
    await expect.poll(() => page.locator('#mode-acces').textContent()).toBe('');
    expect(await page.locator('#documents tbody tr').count()).toBe(1);
  });

  it('the patient activates the portal, logs in with the one-time password, masks the letter and reads the traces', async () => {
    const portal = await browser.context.newPage();
    const portalErrors = collectPageErrors(portal);
    await portal.goto(`${service.url}/portail`);
    await expect.poll(() => portal.locator('#chargement').count()).toBe(0);

    // activation with the code the doctor handed over
    await portal.locator('#activation-ins').fill(DUPONT_NIR);
    await portal.getByLabel('Code d’activation').fill(activationCode);
    await portal.getByLabel('Code secret choisi').fill(SECRET_CODE);
    await portal.getByLabel('Code secret, à nouveau').fill(SECRET_CODE);
    await portal.getByLabel('Numéro de mobile ou adresse électronique').fill(PHONE);
    await portal.getByRole('button', { name: 'Activer mon accès' }).click();
    await expect.poll(() => portal.locator('#etat').textContent()).toContain('Accès activé');

    // login: secret code, then the code "sent by SMS" (read from the outbox)
    await portal.locator('#connexion-secret').fill(SECRET_CODE);
    await portal.getByRole('button', { name: 'Recevoir mon code de connexion' }).click();
    await expect.poll(() => portal.locator('#otp-envoi').textContent()).toContain('par SMS');
    await screenshot(portal, '07-portail-code-envoye');
    await portal.getByLabel('Code reçu (6 chiffres)').fill(await otpFromOutbox(service, '+33612345678'));
    await portal.getByRole('button', { name: 'Me connecter', exact: true }).click();
    await expect.poll(() => portal.locator('#documents tbody tr').count()).toBe(2);

    // mask the letter from professionals
    await portal.getByRole('button', { name: 'Masquer « Lettre de liaison de sortie » aux professionnels' }).click();
    await expect.poll(() => portal.getByRole('button', { name: 'Ne plus masquer « Lettre de liaison de sortie » aux professionnels' }).count()).toBe(1);
    expect((await service.store.records.getDocument(letterId))?.maskedPs).toBe(true);

    // the traces show both practitioners, the break-glass flagged
    const traces = portal.locator('#traces');
    await expect.poll(() => traces.textContent()).toContain('SOPHIE MARTIN');
    const text = (await traces.textContent()) ?? '';
    expect(text).toContain('JULIE MOREAU');
    expect(await portal.locator('#traces tr.urgence').count()).toBeGreaterThan(0);

    // oppositions: no break-glass from now on
    await portal.getByLabel(/^Je m’oppose à l’accès en urgence/).check();
    await portal.getByRole('button', { name: 'Enregistrer mes oppositions' }).click();
    await expect.poll(() => portal.locator('#etat').textContent()).toContain('bris de glace refusé');

    // both practitioners are listed; the patient blocks the podologue
    const authorizations = portal.locator('#autorisations');
    await expect.poll(() => authorizations.textContent()).toContain('JULIE MOREAU');
    expect(await authorizations.textContent()).toContain('SOPHIE MARTIN');
    await portal.getByRole('button', { name: /^Bloquer : JULIE MOREAU/ }).click();
    await expect.poll(() => portal.getByRole('button', { name: /^Débloquer : JULIE MOREAU/ }).count()).toBe(1);
    await screenshot(portal, '08-portail-documents-traces');
    expect(portalErrors).toEqual([]);
    // the practitioner page logged nothing but the known refusal to close the PIN popup (above)
    expect(pageErrors.filter((e) => !e.includes('Unsafe attempt to initiate navigation'))).toEqual([]);
  });
});
