// A real Chromium for end-to-end tests of the web pages: Debian's /usr/bin/chromium driven by
// playwright-core (no browser download), headless, sandbox off (tests may run as root), no
// background traffic, a fresh profile in a temp dir each time. Screenshots go to test-results/.
//
//   const ok = requireSystem('chromium', chromiumAvailable(), CHROMIUM_HINT);
//   const browser = await launchChromium();
//   const page = await browser.context.newPage();
//   …
//   await browser.close();
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { REPO_ROOT } from './system.js';

export const CHROMIUM_PATH = '/usr/bin/chromium';
export const CHROMIUM_HINT = 'install Debian\'s chromium package (apt-get install chromium)';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
] as const;

export function chromiumAvailable(): boolean {
  return existsSync(CHROMIUM_PATH);
}

export interface TestBrowser {
  /** The browser's one context (the profile in `userDataDir`): pages, popups, downloads. */
  readonly context: BrowserContext;
  readonly userDataDir: string;
  close(): Promise<void>;
}

/**
 * Chromium with a fresh profile. Playwright passes the profile itself (`--user-data-dir`, which
 * it refuses among `args`): a persistent context is the way to name a directory of our own.
 */
export async function launchChromium(options: { timeoutMs?: number } = {}): Promise<TestBrowser> {
  const userDataDir = mkdtempSync(join(tmpdir(), 'cardbridge-chromium-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: [...CHROMIUM_ARGS],
      acceptDownloads: true,
      locale: 'fr-FR',
      timezoneId: 'Europe/Paris',
      viewport: { width: 1100, height: 900 },
      timeout: options.timeoutMs ?? 60_000,
    });
  } catch (error) {
    rmSync(userDataDir, { recursive: true, force: true });
    throw error;
  }
  context.setDefaultTimeout(15_000);
  let closing: Promise<void> | undefined;
  return {
    context,
    userDataDir,
    close: () =>
      (closing ??= (async () => {
        await context.close().catch(() => {});
        rmSync(userDataDir, { recursive: true, force: true });
      })()),
  };
}

export const SCREENSHOT_DIR = join(REPO_ROOT, 'test-results', 'browser');

/** A full-page screenshot, test-results/browser/<name>.png; returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/**
 * What the page's scripts logged as errors, and uncaught exceptions. The browser's own lines for
 * HTTP error answers ("Failed to load resource: … 404") are left out: refusals are part of the flows.
 */
export function collectPageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) errors.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => errors.push(`exception: ${error.message}`));
  return errors;
}
