// The CLA byte (ISO 7816-4 §5.4.1): which bits carry the logical channel, secure messaging and
// command chaining. Needed to derive the CLA of follow-up commands (GET RESPONSE, chained parts)
// without losing the channel: CPS4 runs everything on channel 1 (CLA 01, 11 when chaining).
//
//   first interindustry   000x xxxx : b5 (0x10) chaining, b4-b3 (0x0C) SM, b2-b1 (0x03) channel 0-3
//   further interindustry 01xx xxxx : b5 (0x10) chaining, b6 (0x20) SM, b4-b1 (0x0F) channel 4-19
//   proprietary           1xxx xxxx : no standard layout; most cards copy the first interindustry one

export const CLA_CHAINING_BIT = 0x10;

function isFurtherInterindustry(cla: number): boolean {
  return (cla & 0xc0) === 0x40;
}

/** Logical channel number carried by `cla` (proprietary classes read like first interindustry). */
export function logicalChannel(cla: number): number {
  return isFurtherInterindustry(cla) ? 4 + (cla & 0x0f) : cla & 0x03;
}

/**
 * CLA for a GET RESPONSE following a command sent with `cla`: same logical channel, no chaining
 * and no secure messaging (GET RESPONSE only fetches bytes the card already prepared). A
 * proprietary class gets the interindustry class on the same channel, as GET RESPONSE is an
 * interindustry command.
 */
export function getResponseCla(cla: number): number {
  return isFurtherInterindustry(cla) ? 0x40 | (cla & 0x0f) : cla & 0x03;
}

/** `cla` with the "more commands of this chain follow" bit set. */
export function withChaining(cla: number): number {
  return cla | CLA_CHAINING_BIT;
}
