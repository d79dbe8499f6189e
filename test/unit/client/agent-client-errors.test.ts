// Every error the agent can answer becomes the class of its data.code, with the JSON-RPC code,
// the data and the details; unknown codes and data-less errors still give an AgentClientError.
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as api from '../../../src/client/agent-client/index.js';
import {
  AGENT_ERROR_CODES,
  AgentClient,
  AgentClientError,
  CardError,
  ConnectionLostError,
  errorFromRpc,
  PinIncorrectError,
  type WebSocketConstructor,
} from '../../../src/client/agent-client/index.js';
import { FAKE_TOKEN, FakeAgent, rpcError, RpcFailure } from './support/fake-agent.js';
import { doctorMaterial } from './support/fixtures.js';

// Compile-time: the browser's WebSocket (DOM lib) fits the option as `ws`'s does.
const domWebSocket: WebSocketConstructor | undefined = (globalThis as { WebSocket?: typeof globalThis.WebSocket }).WebSocket;
void domWebSocket;

/** The classes of agent-protocol.md "Errors", by data.code: the names this library promises. */
const EXPECTED: Record<string, string> = {
  ORIGIN_NOT_PAIRED: 'OriginNotPairedError',
  SCOPE_NOT_GRANTED: 'ScopeNotGrantedError',
  UNAUTHORIZED: 'UnauthorizedError',
  INVALID_PARAMS: 'InvalidParamsError',
  METHOD_NOT_FOUND: 'MethodNotFoundError',
  PCSC_UNAVAILABLE: 'PcscUnavailableError',
  READER_NOT_FOUND: 'ReaderNotFoundError',
  CARD_ABSENT: 'CardAbsentError',
  CARD_AMBIGUOUS: 'CardAmbiguousError',
  CARD_REMOVED: 'CardRemovedError',
  UNSUPPORTED_CARD: 'UnsupportedCardError',
  UNSUPPORTED_ALGORITHM: 'UnsupportedAlgorithmError',
  PIN_REQUIRED: 'PinRequiredError',
  PIN_INCORRECT: 'PinIncorrectError',
  PIN_BLOCKED: 'PinBlockedError',
  PIN_LAST_TRY: 'PinLastTryError',
  PIN_VALUE_NOT_ALLOWED: 'PinValueNotAllowedError',
  DECRYPT_FAILED: 'DecryptFailedError',
  RATE_LIMITED: 'RateLimitedError',
  USER_CANCELLED: 'UserCancelledError',
  TIMEOUT: 'TimeoutError',
  BUSY: 'BusyError',
  CARD_ERROR: 'CardError',
  INTERNAL: 'InternalError',
};

let fake: FakeAgent;
let client: AgentClient;

beforeAll(async () => {
  const { persona, credentials } = await doctorMaterial();
  fake = await FakeAgent.start({ persona, credentials });
  client = await AgentClient.connect({ url: fake.url, WebSocket, token: FAKE_TOKEN, appId: 'logiciel-test' });
});

afterAll(async () => {
  await client?.close();
  await fake?.stop();
});

describe('errors from the agent', () => {
  it('knows exactly the contract codes', () => {
    expect([...AGENT_ERROR_CODES].sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  it.each(Object.entries(EXPECTED))('%s -> %s', async (dataCode, className) => {
    const Class = (api as unknown as Record<string, new (...args: never[]) => AgentClientError>)[className];
    expect(Class).toBeTypeOf('function');
    const failure = rpcError(dataCode, { detail: 'x' });
    fake.failNext('cps.pinStatus', failure);
    const error = await client.cps.pinStatus().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Class);
    expect(error).toBeInstanceOf(AgentClientError);
    expect(error).toBeInstanceOf(Error);
    const e = error as AgentClientError;
    expect(e.code).toBe(dataCode);
    expect(e.name).toBe(className);
    expect(e.rpcCode).toBe(failure.body.code);
    expect(e.data).toEqual({ code: dataCode, detail: 'x' });
    expect(e.message).toBe(`message de ${dataCode}`);
    expect((Class as unknown as { CODE: string }).CODE).toBe(dataCode);
  });

  it('PinIncorrectError carries triesRemaining, CardError the status word', async () => {
    fake.failNext('cps.verifyPin', rpcError('PIN_INCORRECT', { triesRemaining: 1 }));
    const pin = (await client.cps.verifyPin({ method: 'value', pin: '0000' }).catch((e: unknown) => e)) as PinIncorrectError;
    expect(pin).toBeInstanceOf(PinIncorrectError);
    expect(pin.triesRemaining).toBe(1);
    fake.failNext('cps.sign', rpcError('CARD_ERROR', { sw: '6982' }));
    const card = (await client.cps.sign({ hash: Buffer.alloc(32).toString('base64'), hashAlgorithm: 'SHA-256' }).catch((e: unknown) => e)) as CardError;
    expect(card).toBeInstanceOf(CardError);
    expect(card.sw).toBe('6982');
  });

  it('an unknown data.code gives an AgentClientError with that code', async () => {
    fake.failNext('cps.pinStatus', rpcError('SOMETHING_NEW', { extra: 1 }));
    const error = (await client.cps.pinStatus().catch((e: unknown) => e)) as AgentClientError;
    expect(error.constructor).toBe(AgentClientError);
    expect(error.code).toBe('SOMETHING_NEW');
    expect(error.data).toEqual({ code: 'SOMETHING_NEW', extra: 1 });
  });

  it('an error without data is classed by its JSON-RPC code', async () => {
    fake.failNext('cps.pinStatus', new RpcFailure({ code: -32601, message: 'Method not found' } as never));
    const error = (await client.cps.pinStatus().catch((e: unknown) => e)) as AgentClientError;
    expect(error).toBeInstanceOf(api.MethodNotFoundError);
    expect(error.rpcCode).toBe(-32601);
    expect(errorFromRpc({ code: -32602, message: 'bad' })).toBeInstanceOf(api.InvalidParamsError);
    expect(errorFromRpc({ code: -32700, message: 'parse' }).code).toBe('INVALID_REQUEST');
    expect(errorFromRpc({ code: -32000, message: 'x' })).toBeInstanceOf(api.InternalError);
    expect(errorFromRpc(null).code).toBe('INTERNAL');
  });

  it('the client-side classes keep their codes', () => {
    const lost = new ConnectionLostError('perdue');
    expect(lost.code).toBe('CONNECTION_LOST');
    expect(lost.rpcCode).toBeUndefined();
    expect(new api.AgentUnreachableError().code).toBe('AGENT_UNREACHABLE');
    expect(new api.CardAbsentError().message).toBe('CARD_ABSENT');
  });

  it('the connection stays usable after errors', async () => {
    expect((await client.info()).caller).toBe('desktop');
  });
});
