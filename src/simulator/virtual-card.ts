// The contract every virtual card honours (simulator.md): APDU in -> APDU out, an ATR, a reset,
// and persistent state that survives a reset (PIN tries) while volatile state (verified PIN,
// current file, security environment) does not.

export type VirtualCardFamily = 'CPS3' | 'CPS4' | 'VITALE2';

export interface VirtualCard {
  readonly family: VirtualCardFamily;
  /** Answer-to-reset, as a reader reports it. */
  readonly atr: Uint8Array;
  /** Processes one command APDU and returns the response APDU (data || SW1 SW2). Never throws. */
  transmit(command: Uint8Array): Uint8Array;
  /** Warm/cold reset: ends the verified state, the selected files and the security environment. */
  reset(): void;
}
