// The agent's PIN page in a popup (agent-protocol.md "PIN rules", method "page"). Browsers block
// a popup opened after an await, so the page prepares a blank window synchronously in the user's
// click handler (`client.preparePinWindow()`); when the agent sends `pin.prompt` for a pending
// call, that window is navigated to the one-time URL, and it is closed when the call settles.
// Without a prepared window the prompt goes to `onPinPrompt`, else to a direct window.open.
import type { PinPrompt } from './types.js';

/** What the client needs of a window: the browser's `Window` fits (tests pass a fake). */
export interface PinWindow {
  readonly closed: boolean;
  close(): void;
  location: { href: string };
  opener?: unknown;
}

/** Opens a window on `url` (default: `window.open(url, '_blank', 'popup,…')`); null when blocked. */
export type OpenWindow = (url: string) => PinWindow | null;

export interface PreparedPinWindow {
  /** The window (about:blank until a prompt arrives). */
  readonly window: PinWindow;
  /** Closes it now (the page changed its mind). */
  close(): void;
}

export const BLANK_URL = 'about:blank';

export function defaultOpenWindow(url: string): PinWindow | null {
  const w = (globalThis as { window?: { open?: (url: string, target: string, features: string) => unknown } }).window;
  if (typeof w?.open !== 'function') return null;
  return (w.open(url, '_blank', 'popup,width=480,height=640') as PinWindow | null) ?? null;
}

interface Slot {
  window: PinWindow;
  /** The first PIN-capable call issued after preparation: the window closes when it settles unused. */
  armedBy: string | undefined;
  /** Set once a prompt was shown in it. */
  used: boolean;
}

function safeClose(win: PinWindow): void {
  try {
    if (!win.closed) win.close();
  } catch {
    // a window of another origin may refuse some accesses; closing ours is allowed
  }
}

export class PinWindows {
  private prepared: Slot | undefined;
  /** Windows showing a prompt, each with the calls it is for: closed when all of them settled. */
  private readonly bound = new Map<PinWindow, Set<string>>();

  constructor(
    private readonly openWindow: OpenWindow,
    private readonly onPinPrompt: ((prompt: PinPrompt) => void) | undefined,
  ) {}

  /** Call synchronously in the user's click handler. Null when no window could be opened (no DOM, popup blocked). */
  prepare(): PreparedPinWindow | null {
    if (this.prepared && !this.prepared.window.closed) {
      return this.handle(this.prepared); // one blank window is enough
    }
    const win = this.openWindow(BLANK_URL);
    if (!win) return null;
    try {
      // The PIN page needs no handle on the calling page.
      win.opener = null;
    } catch {
      // not settable here: harmless
    }
    const slot: Slot = { window: win, armedBy: undefined, used: false };
    this.prepared = slot;
    return this.handle(slot);
  }

  /** A call that may need the PIN starts. */
  callStarted(requestId: string): void {
    if (this.prepared && this.prepared.armedBy === undefined) this.prepared.armedBy = requestId;
  }

  /** A call settled: close the window that showed its prompt, or the prepared one it left unused. */
  callSettled(requestId: string): void {
    for (const [win, calls] of this.bound) {
      if (calls.delete(requestId) && calls.size === 0) {
        this.bound.delete(win);
        safeClose(win);
      }
    }
    const slot = this.prepared;
    if (slot && !slot.used && slot.armedBy === requestId) {
      this.prepared = undefined;
      safeClose(slot.window);
    }
  }

  /**
   * A `pin.prompt` arrived for `calls` (the pending calls it may belong to: the agent's
   * `requestId` when it names one of ours, else every pending call that may need the PIN).
   */
  prompt(prompt: PinPrompt, calls: readonly string[]): void {
    const slot = this.prepared;
    this.prepared = undefined;
    let win: PinWindow | null = null;
    if (slot && !slot.window.closed) {
      slot.used = true;
      slot.window.location.href = prompt.url;
      win = slot.window;
    } else if (this.onPinPrompt) {
      this.onPinPrompt(prompt);
      return;
    } else {
      win = this.openWindow(prompt.url);
    }
    if (win && calls.length > 0) this.bound.set(win, new Set(calls));
  }

  /** Closes every window (the client closes). */
  closeAll(): void {
    if (this.prepared) safeClose(this.prepared.window);
    this.prepared = undefined;
    for (const win of this.bound.keys()) safeClose(win);
    this.bound.clear();
  }

  private handle(slot: Slot): PreparedPinWindow {
    return {
      window: slot.window,
      close: () => {
        if (this.prepared === slot) this.prepared = undefined;
        safeClose(slot.window);
      },
    };
  }
}
