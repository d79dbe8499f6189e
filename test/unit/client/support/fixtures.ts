// Shared by the client tests: a persona's credentials from a fresh test PKI, a WebSocket class
// that behaves like a browser page's (sends an Origin), a fake popup window, and a wait helper.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import type { PinWindow } from '../../../../src/client/agent-client/index.js';
import { TestPki, type PractitionerCredentials } from '../../../../src/pki/test-pki.js';
import { personaCredentials } from '../../../../src/simulator/cps/create-cps-card.js';
import { CPS_PERSONAS, type CpsPersona } from '../../../../src/simulator/personas.js';
import { BROWSER_ORIGIN } from './fake-agent.js';

export interface PersonaMaterial {
  pki: TestPki;
  persona: CpsPersona;
  credentials: PractitionerCredentials;
}

export async function doctorMaterial(): Promise<PersonaMaterial> {
  const pki = await TestPki.open(mkdtempSync(join(tmpdir(), 'cardbridge-client-')));
  const persona = CPS_PERSONAS['cps:medecin'];
  return { pki, persona, credentials: await personaCredentials(pki, persona) };
}

/** `ws` as a browser page's WebSocket: the upgrade carries the page's Origin. */
export class BrowserLikeWebSocket extends WebSocket {
  constructor(url: string) {
    super(url, { origin: BROWSER_ORIGIN });
  }
}

export class FakeWindow implements PinWindow {
  closed = false;
  opener: unknown = 'the calling page';
  readonly location: { href: string };
  /** Every URL it was sent to, in order. */
  readonly visited: string[] = [];

  constructor(url: string) {
    const visited = this.visited;
    visited.push(url);
    let href = url;
    this.location = {
      get href() {
        return href;
      },
      set href(value: string) {
        href = value;
        visited.push(value);
      },
    };
  }

  close(): void {
    this.closed = true;
  }
}

export function fakeWindows(): { opened: FakeWindow[]; open: (url: string) => FakeWindow } {
  const opened: FakeWindow[] = [];
  return {
    opened,
    open: (url) => {
      const w = new FakeWindow(url);
      opened.push(w);
      return w;
    },
  };
}

export function settled(promise: Promise<unknown>): { done: boolean } {
  const state = { done: false };
  promise.then(
    () => (state.done = true),
    () => (state.done = true),
  );
  return state;
}

export const tick = (ms = 20) => new Promise((resolve) => setTimeout(resolve, ms));
