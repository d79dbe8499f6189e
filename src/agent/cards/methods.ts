// The card methods of agent-protocol.md, each over already-validated params: which card, which
// queued operation, and the result in the protocol's shape.
import type { CpsSession } from '../../cards/cps-session.js';
import type { CallerContext } from '../caller.js';
import { AgentError } from '../errors.js';
import { pagePrompt, verifyPin, withPin, type PinMethod } from '../pin/pin-gate.js';
import type { CardSlot } from './card-slot.js';
import type { ServiceContext } from './context.js';
import type { CardMethod, ParamsOf } from './params.js';

type Handler<M extends CardMethod> = (ctx: ServiceContext, params: ParamsOf<M>, caller: CallerContext) => Promise<unknown>;

const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');
const SHA256_LENGTH = 32;

/** Default PIN entry: the page for browsers; the value for desktop callers (PIN_REQUIRED without one). */
function pinMethod(caller: CallerContext, method: PinMethod | undefined, hasValue: boolean): PinMethod {
  if (method) return method;
  if (caller.kind === 'origin') return 'page';
  if (!hasValue) throw new AgentError('PIN_REQUIRED');
  return 'value';
}

/** After a PIN change or unblock no verified state is left to anyone (CPS4 leaves the card verified). */
async function endAllStates(ctx: ServiceContext, slot: CardSlot): Promise<void> {
  await ctx.resetCard(slot);
  slot.pin.clear();
}

export const HANDLERS: { [M in CardMethod]: Handler<M> } = {
  'readers.list': async (ctx) => {
    if (ctx.registry.status !== 'ok') throw new AgentError('PCSC_UNAVAILABLE');
    return ctx.registry.list();
  },

  'cps.getIdentity': async (ctx, params, caller) => {
    const slot = ctx.registry.resolve('cps', params.reader);
    return ctx.run(slot, caller, async () => (await slot.cps()).getIdentity(), { idempotent: true });
  },

  'cps.getCertificates': async (ctx, params, caller) => {
    const slot = ctx.registry.resolve('cps', params.reader);
    const certificates = await ctx.run(slot, caller, async () => (await slot.cps()).getCertificates(), { idempotent: true });
    // The card holds no CA certificate the agent could vouch for: the chain is the verifier's job.
    return { authentication: b64(certificates.authentication), signature: b64(certificates.signature), chain: [] as string[] };
  },

  'cps.getActivities': async (ctx, params, caller) => {
    const slot = ctx.registry.resolve('cps', params.reader);
    return withPin(ctx, slot, caller, { operation: 'cps.getActivities', pin: params.pin, confirmLastTry: params.confirmLastTry, idempotent: true }, (s) => s.getActivities());
  },

  'cps.pinStatus': async (ctx, params, caller) => {
    const slot = ctx.registry.resolve('cps', params.reader);
    return ctx.run(
      slot,
      caller,
      async () => {
        const status = await (await slot.cps()).pinStatus();
        // The card no longer holds a state: nobody's record stands.
        if (!status.verified) slot.pin.clear();
        return {
          triesRemaining: status.triesRemaining,
          maxTries: status.maxTries,
          blocked: status.blocked,
          verified: status.verified && slot.pin.isHeldBy(caller.connectionId),
        };
      },
      { idempotent: true },
    );
  },

  'cps.verifyPin': async (ctx, params, caller) => {
    const method = pinMethod(caller, params.method, params.pin !== undefined);
    if (method === 'value' && params.pin === undefined) throw new AgentError('INVALID_PARAMS', { issues: [{ path: 'pin', code: 'required' }] });
    if (method !== 'value' && params.pin !== undefined) throw new AgentError('INVALID_PARAMS', { issues: [{ path: 'pin', code: 'unexpected' }] });
    const slot = ctx.registry.resolve('cps', params.reader);
    await verifyPin(ctx, slot, caller, method, params.pin, params.confirmLastTry ?? false);
    return { verified: true };
  },

  'cps.changePin': async (ctx, params, caller) => {
    const method = pinMethod(caller, params.method, params.pin !== undefined);
    if (method === 'pinpad') throw new AgentError('INVALID_PARAMS', { reason: 'pinpad-change-unsupported' });
    if (method === 'value' && (params.pin === undefined || params.newPin === undefined)) {
      throw new AgentError('INVALID_PARAMS', { issues: [{ path: params.pin === undefined ? 'pin' : 'newPin', code: 'required' }] });
    }
    if (method === 'page' && (params.pin !== undefined || params.newPin !== undefined)) throw new AgentError('INVALID_PARAMS', { issues: [{ path: 'pin', code: 'unexpected' }] });
    const slot = ctx.registry.resolve('cps', params.reader);
    const confirm = params.confirmLastTry ?? false;
    const change = (oldPin: string, newPin: string, entry: PinMethod) =>
      ctx.run(slot, caller, async () => {
        const session = await slot.cps();
        const status = await session.pinStatus();
        if (status.blocked) throw new AgentError('PIN_BLOCKED');
        if (!status.verified && status.triesRemaining <= 1 && !confirm) throw new AgentError('PIN_LAST_TRY', { triesRemaining: status.triesRemaining });
        try {
          await session.changePin(oldPin, newPin);
        } catch (error) {
          await ctx.audit(slot, caller, 'cps.changePin', error, entry);
          throw error;
        }
        await endAllStates(ctx, slot);
        await ctx.audit(slot, caller, 'cps.changePin', 'ok', entry);
      });
    if (method === 'value') await change(params.pin!, params.newPin!, 'value');
    else await pagePrompt(ctx, slot, caller, { kind: 'change', operation: 'cps.changePin', confirmLastTry: confirm }, (v) => change(v.pin ?? '', v.newPin ?? '', 'page'));
    return { ok: true };
  },

  'cps.unblockPin': async (ctx, params, caller) => {
    const method = pinMethod(caller, params.method, params.puk !== undefined);
    if (method === 'pinpad') throw new AgentError('INVALID_PARAMS', { reason: 'pinpad-unblock-unsupported' });
    if (method === 'value' && (params.puk === undefined || params.newPin === undefined)) {
      throw new AgentError('INVALID_PARAMS', { issues: [{ path: params.puk === undefined ? 'puk' : 'newPin', code: 'required' }] });
    }
    if (method === 'page' && (params.puk !== undefined || params.newPin !== undefined)) throw new AgentError('INVALID_PARAMS', { issues: [{ path: 'puk', code: 'unexpected' }] });
    const slot = ctx.registry.resolve('cps', params.reader);
    const unblock = (puk: string, newPin: string, entry: PinMethod) =>
      ctx.run(slot, caller, async () => {
        try {
          await (await slot.cps()).unblockPin(puk, newPin);
        } catch (error) {
          await ctx.audit(slot, caller, 'cps.unblockPin', error, entry);
          throw error;
        }
        await endAllStates(ctx, slot);
        await ctx.audit(slot, caller, 'cps.unblockPin', 'ok', entry);
      });
    if (method === 'value') await unblock(params.puk!, params.newPin!, 'value');
    else await pagePrompt(ctx, slot, caller, { kind: 'unblock', operation: 'cps.unblockPin', confirmLastTry: true }, (v) => unblock(v.puk ?? '', v.newPin ?? '', 'page'));
    return { ok: true };
  },

  'cps.logout': async (ctx, params, caller) => {
    const slot = ctx.registry.resolve('cps', params.reader);
    await ctx.run(slot, caller, async () => {
      // Only the caller's own state: a connection cannot log another one out.
      if (!slot.pin.isHeldBy(caller.connectionId)) return;
      await endAllStates(ctx, slot);
      await ctx.audit(slot, caller, 'cps.logout', 'ok');
    });
    return { ok: true };
  },

  'cps.authenticate': async (ctx, params, caller) => {
    const slot = ctx.registry.resolve('cps', params.reader);
    return withPin(ctx, slot, caller, { operation: 'cps.authenticate', pin: params.pin, confirmLastTry: params.confirmLastTry }, async (session) => {
      try {
        // The only use of the authentication key for signing: the origin-bound token.
        const token = await session.authenticate(caller.origin, params.challenge, ctx.options.appVersion);
        await ctx.audit(slot, caller, 'cps.authenticate', 'ok');
        return token;
      } catch (error) {
        await ctx.audit(slot, caller, 'cps.authenticate', error);
        throw error;
      }
    });
  },

  'cps.sign': async (ctx, params, caller) => {
    if (params.hashAlgorithm !== 'SHA-256') throw new AgentError('UNSUPPORTED_ALGORITHM', { hashAlgorithm: params.hashAlgorithm.slice(0, 32) });
    const hash = Buffer.from(params.hash, 'base64');
    if (hash.length !== SHA256_LENGTH) throw new AgentError('INVALID_PARAMS', { issues: [{ path: 'hash', code: 'length' }] });
    const padding = params.padding ?? 'PKCS1';
    const slot = ctx.registry.resolve('cps', params.reader);
    if (padding === 'PSS' && slot.family !== 'CPS4') throw new AgentError('UNSUPPORTED_ALGORITHM', { padding });
    const request = { operation: 'cps.sign', pin: params.pin, confirmLastTry: params.confirmLastTry, fresh: ctx.options.pinPerSignature };
    return withPin(ctx, slot, caller, request, async (session: CpsSession) => {
      let signature: Uint8Array;
      try {
        // The signature (non-repudiation) key only.
        signature = await session.signHash(hash, { padding });
      } catch (error) {
        await ctx.audit(slot, caller, 'cps.sign', error);
        throw error;
      }
      const certificate = (await session.getCertificates()).signature;
      await ctx.audit(slot, caller, 'cps.sign', 'ok');
      return { signature: b64(signature), algorithm: padding === 'PSS' ? 'PS256' : 'RS256', certificate: b64(certificate) };
    });
  },

  'cps.decrypt': async (ctx, params, caller) => {
    const ciphertext = Buffer.from(params.ciphertext, 'base64');
    const slot = ctx.registry.resolve('cps', params.reader);
    return withPin(ctx, slot, caller, { operation: 'cps.decrypt', pin: params.pin, confirmLastTry: params.confirmLastTry }, async (session) => {
      try {
        const plaintext = await session.decrypt(ciphertext);
        await ctx.audit(slot, caller, 'cps.decrypt', 'ok');
        return { plaintext: b64(plaintext) };
      } catch (error) {
        await ctx.audit(slot, caller, 'cps.decrypt', error);
        throw error;
      }
    });
  },

  'vitale.read': async (ctx, params, caller) => {
    const slot = ctx.registry.resolve('vitale', params.reader);
    return ctx.run(slot, caller, async () => (await slot.vitale()).read(), { idempotent: true });
  },
};
