// A virtual Vitale 2 card (cards.md): T=0 on channel 0, SELECT (AID, file id, path) and READ BINARY
// (offset or SFI) over the persona's file tree. Everything is readable without a PIN: the card
// holder PIN and the CPS-authenticated access of real cards are not simulated.
import { CardFileSystem } from '../file-system.js';
import { readBinary, select } from '../file-commands.js';
import { fail, IsoCard, type CardCommand, type HandlerResult } from '../iso-card.js';
import type { VirtualCardFamily } from '../virtual-card.js';
import type { VitalePersona } from './personas.js';
import { buildVitaleFiles } from './vitale-files.js';
import { ATR_VITALE2 } from './vitale-layout.js';

const INS_SELECT = 0xa4;
const INS_READ_BINARY = 0xb0;

export class Vitale2Card extends IsoCard {
  readonly family: VirtualCardFamily = 'VITALE2';
  readonly atr: Uint8Array = ATR_VITALE2.slice();
  private readonly fs: CardFileSystem;

  constructor(readonly persona: VitalePersona) {
    super({ protocol: 'T0', channels: [0] });
    this.fs = new CardFileSystem(buildVitaleFiles(persona));
  }

  protected handle(command: CardCommand): HandlerResult {
    switch (command.ins) {
      case INS_SELECT:
        return select(this.fs, command, { acceptedP2: [0x00, 0x04, 0x0c], fciWithP2_00: 'fcp' });
      case INS_READ_BINARY:
        return readBinary(this.fs, command, (condition) => condition.kind === 'always');
      default:
        return fail(0x6d00);
    }
  }

  protected resetApplication(): void {
    this.fs.reset();
  }
}
