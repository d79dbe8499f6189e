// The PIN rules of agent-protocol.md, in one place:
// - the card's verified state belongs to the connection that verified it; a call of another
//   connection never uses it: that connection verifies for itself, and the state of the first is
//   ended (card reset) in the same operation, right before the new VERIFY;
// - a call needing the PIN from a caller without a state: browser pages get the PIN page, desktop
//   callers get PIN_REQUIRED unless they pass `pin`;
// - with one try left nothing is presented without `confirmLastTry: true` (PIN_LAST_TRY);
// - the verification and the operation that needed it run as ONE queued operation, so nothing of
//   ours comes between them.
import { CardIo } from '../../cards/card-io.js';
import { CardError } from '../../cards/errors.js';
import type { CpsSession } from '../../cards/cps-session.js';
import type { CallerContext } from '../caller.js';
import { AgentError } from '../errors.js';
import { toAgentError } from '../cards/agent-errors.js';
import type { CardSlot } from '../cards/card-slot.js';
import type { ServiceContext } from '../cards/context.js';
import { connectionClosedError } from '../cards/queue.js';
import { readPinpadPinObject, verifyWithPinpad } from './pinpad.js';
import type { PromptEnd, PromptKind, PromptValues } from './prompts.js';

export type PinMethod = 'page' | 'pinpad' | 'value';

export interface PinRequest {
  /** The protocol method that needs the PIN (page wording, audit). */
  readonly operation: string;
  /** The PIN value (desktop callers only). */
  readonly pin?: string | undefined;
  readonly confirmLastTry?: boolean | undefined;
  /** Verify even when the caller holds a state (`--pin-per-signature`). */
  readonly fresh?: boolean;
  /** An idempotent read, sent again once after another application reset the card. */
  readonly idempotent?: boolean;
}

/** The caller holds no usable state: go and get the PIN. */
class NeedPin extends Error {}

function cla(slot: CardSlot): number {
  return slot.family === 'CPS4' ? 0x01 : 0x00;
}

/**
 * Runs `body` with the card verified for `caller`: straight away when the caller holds the state,
 * otherwise after getting and presenting its PIN (page for browsers, `pin` for desktop callers).
 */
export async function withPin<T>(ctx: ServiceContext, slot: CardSlot, caller: CallerContext, request: PinRequest, body: (session: CpsSession) => Promise<T>): Promise<T> {
  if (!request.fresh && slot.pin.isHeldBy(caller.connectionId)) {
    try {
      return await ctx.run(
        slot,
        caller,
        async () => {
          if (!slot.pin.isHeldBy(caller.connectionId)) throw new NeedPin();
          slot.pin.touch();
          try {
            return await body(await slot.cps());
          } catch (error) {
            if (!(error instanceof CardError && error.code === 'PIN_REQUIRED')) throw error;
            // The card lost the state (another application reset or logged it out): ours is gone too.
            slot.pin.clear();
            throw new NeedPin();
          }
        },
        { idempotent: request.idempotent ?? false },
      );
    } catch (error) {
      if (!(error instanceof NeedPin)) throw error;
    }
  }
  if (caller.kind === 'origin') {
    if (request.pin !== undefined) throw new AgentError('PIN_VALUE_NOT_ALLOWED');
    return pagePrompt(ctx, slot, caller, { kind: 'verify', operation: request.operation, confirmLastTry: request.confirmLastTry ?? false }, (values) =>
      ctx.run(slot, caller, () => presentAndRun(ctx, slot, caller, { method: 'page', operation: request.operation, confirmLastTry: request.confirmLastTry ?? false }, (s) => s.verifyPin(values.pin ?? ''), body)),
    );
  }
  const pin = request.pin;
  if (pin === undefined) throw new AgentError('PIN_REQUIRED');
  return ctx.run(slot, caller, () => presentAndRun(ctx, slot, caller, { method: 'value', operation: request.operation, confirmLastTry: request.confirmLastTry ?? false }, (s) => s.verifyPin(pin), body));
}

/** `cps.verifyPin` with an explicit method. */
export async function verifyPin(ctx: ServiceContext, slot: CardSlot, caller: CallerContext, method: PinMethod, pin: string | undefined, confirmLastTry: boolean): Promise<void> {
  const operation = 'cps.verifyPin';
  const nothing = async () => undefined;
  switch (method) {
    case 'value':
      if (pin === undefined) throw new AgentError('PIN_REQUIRED');
      return ctx.run(slot, caller, () => presentAndRun(ctx, slot, caller, { method, operation, confirmLastTry }, (s) => s.verifyPin(pin), nothing));
    case 'pinpad':
      return ctx.run(slot, caller, () =>
        presentAndRun(ctx, slot, caller, { method, operation, confirmLastTry }, async () => {
          const io = new CardIo(slot.channel, cla(slot));
          const family = slot.family === 'CPS4' ? 'CPS4' : 'CPS3';
          slot.pinpadPin ??= await readPinpadPinObject(io, family);
          await verifyWithPinpad(slot.channel, io, family, slot.pinpadPin, ctx.options.pinPromptTimeoutMs / 1000);
        }, nothing),
      );
    case 'page':
      return pagePrompt(ctx, slot, caller, { kind: 'verify', operation, confirmLastTry }, (values) =>
        ctx.run(slot, caller, () => presentAndRun(ctx, slot, caller, { method, operation, confirmLastTry }, (s) => s.verifyPin(values.pin ?? ''), nothing)),
      );
  }
}

interface PresentOptions {
  readonly method: PinMethod;
  readonly operation: string;
  readonly confirmLastTry: boolean;
}

/**
 * Inside one queued operation: check the counter (last-try guard), end whatever verified state the
 * card holds (another connection's, or an unknown one), present the caller's PIN, record the state
 * as the caller's, and run `body`.
 */
async function presentAndRun<T>(
  ctx: ServiceContext,
  slot: CardSlot,
  caller: CallerContext,
  options: PresentOptions,
  present: (session: CpsSession) => Promise<void>,
  body: (session: CpsSession) => Promise<T>,
): Promise<T> {
  const session = await slot.cps();
  const status = await session.pinStatus();
  if (status.blocked) throw new AgentError('PIN_BLOCKED');
  if (!status.verified && status.triesRemaining <= 1 && !options.confirmLastTry) throw new AgentError('PIN_LAST_TRY', { triesRemaining: status.triesRemaining });
  if (status.verified) await ctx.resetCard(slot);
  slot.pin.clear();
  try {
    await present(session);
  } catch (error) {
    await ctx.audit(slot, caller, 'cps.verifyPin', error, options.method);
    throw error;
  }
  if (caller.signal.aborted) {
    // The caller went away while its PIN was presented: nothing stays verified for anyone.
    await ctx.resetCard(slot);
    throw connectionClosedError();
  }
  slot.pin.grant(caller.connectionId);
  await ctx.audit(slot, caller, 'cps.verifyPin', 'ok', options.method);
  return body(session);
}

export interface PromptRequest {
  readonly kind: PromptKind;
  readonly operation: string;
  readonly confirmLastTry: boolean;
}

function endFor(error: AgentError): PromptEnd {
  switch (error.code) {
    case 'PIN_BLOCKED':
      return 'blocked';
    case 'CARD_REMOVED':
    case 'CARD_ABSENT':
      return 'card-removed';
    case 'TIMEOUT':
      return 'timeout';
    default:
      return error.details.reason === 'connection-closed' ? 'withdrawn' : 'failed';
  }
}

/**
 * The PIN page: `pin.prompt` to the calling connection only, then each submission goes to
 * `attempt` (which presents it to the card in a queued operation). A wrong PIN shows the form
 * again with the tries left, as long as another try is allowed; a malformed one (letters, wrong
 * length) shows it again without costing a try.
 * @throws AgentError USER_CANCELLED, TIMEOUT, PIN_LAST_TRY, PIN_INCORRECT (no further try allowed),
 *   PIN_BLOCKED, or what the operation failed with.
 */
export async function pagePrompt<T>(ctx: ServiceContext, slot: CardSlot, caller: CallerContext, request: PromptRequest, attempt: (values: PromptValues) => Promise<T>): Promise<T> {
  const status = await ctx.run(slot, caller, async () => (await slot.cps()).pinStatus(), { idempotent: true });
  const unblocking = request.kind === 'unblock';
  if (!unblocking && status.blocked) throw new AgentError('PIN_BLOCKED');
  if (!unblocking && !status.verified && status.triesRemaining <= 1 && !request.confirmLastTry) {
    throw new AgentError('PIN_LAST_TRY', { triesRemaining: status.triesRemaining });
  }
  const triesRemaining = status.verified ? status.maxTries : status.triesRemaining;
  const prompt = ctx.prompts.create({
    connectionId: caller.connectionId,
    kind: request.kind,
    origin: caller.origin,
    reader: slot.reader,
    purpose: request.operation,
    triesRemaining: unblocking ? status.maxTries : triesRemaining,
    lastTry: !unblocking && triesRemaining === 1,
    cardKey: slot,
  });
  if (slot.removed) prompt.end('card-removed');
  if (caller.signal.aborted) prompt.end('withdrawn');
  caller.notify('pin.prompt', { requestId: prompt.id, url: prompt.url, reader: slot.reader, origin: caller.origin, triesRemaining: prompt.triesRemaining });
  try {
    for (;;) {
      const values = await prompt.next(ctx.options.pinPromptTimeoutMs);
      if (request.kind !== 'verify' && values.newPin !== values.newPinConfirm) {
        prompt.retry('mismatch');
        continue;
      }
      let result: T;
      try {
        result = await attempt(values);
      } catch (error) {
        const e = toAgentError(error);
        if (e.code === 'INVALID_PARAMS' && error instanceof CardError) {
          prompt.retry('format');
          continue;
        }
        const left = e.details.triesRemaining;
        if (e.code === 'PIN_INCORRECT' && typeof left === 'number' && left > 0 && (left > 1 || request.confirmLastTry)) {
          prompt.triesRemaining = left;
          prompt.lastTry = left === 1;
          prompt.retry('incorrect');
          continue;
        }
        if (e.code === 'PIN_INCORRECT' && typeof left === 'number') prompt.triesRemaining = left;
        prompt.end(endFor(e), e.code);
        throw e;
      }
      prompt.end('done');
      return result;
    }
  } finally {
    if (!prompt.ended) prompt.end('withdrawn');
  }
}
