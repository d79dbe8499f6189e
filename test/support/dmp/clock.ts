// A clock tests move by hand, shared by the service (DPoP iat window, challenge and session
// expiry, certificate dates) and the test clients (proof iat).
export class TestClock {
  private time: number;

  constructor(start: Date | number = Date.now()) {
    this.time = typeof start === 'number' ? start : start.getTime();
  }

  /** Use as `clock: testClock.now`. */
  readonly now = (): Date => new Date(this.time);

  advance(ms: number): void {
    this.time += ms;
  }

  advanceMinutes(minutes: number): void {
    this.advance(minutes * 60_000);
  }

  set(at: Date | number): void {
    this.time = typeof at === 'number' ? at : at.getTime();
  }
}
