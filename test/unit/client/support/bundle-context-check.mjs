// Run by browser-bundle.test.ts as `node --experimental-vm-modules <this> <bundle dir>`: loads
// each browser bundle as an ES module in a fresh V8 context holding only what a browser page
// has (no process, require, Buffer, module or global), then uses it there. Prints one JSON line.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import vm from 'node:vm';

const dir = process.argv[2];

/**
 * The host's WebCrypto for the context. Node's rejects byte arrays of another V8 context (a
 * browser page has only one realm, so this is the harness's problem, not the bundle's): bytes
 * are copied into this realm on the way in; results need no help.
 */
function cryptoForContext() {
  const hostBytes = (value) => {
    if (value === null || typeof value !== 'object') return value;
    if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength).slice();
    if (Object.prototype.toString.call(value) === '[object ArrayBuffer]') return new Uint8Array(value).slice();
    return value;
  };
  const subtle = globalThis.crypto.subtle;
  const wrapped = {};
  for (const name of ['digest', 'sign', 'verify', 'generateKey', 'importKey', 'exportKey', 'encrypt', 'decrypt', 'deriveBits', 'deriveKey', 'wrapKey', 'unwrapKey']) {
    wrapped[name] = (...args) => subtle[name](...args.map(hostBytes));
  }
  return {
    subtle: wrapped,
    getRandomValues: (array) => globalThis.crypto.getRandomValues(array),
    randomUUID: () => globalThis.crypto.randomUUID(),
  };
}

function browserLikeContext() {
  const globals = {
    console,
    crypto: cryptoForContext(),
    TextEncoder,
    TextDecoder,
    URL,
    URLSearchParams,
    setTimeout,
    clearTimeout,
    queueMicrotask,
    structuredClone,
    atob,
    btoa,
    Blob,
    FormData,
    Headers,
    Request,
    Response,
    fetch,
    AbortController,
    AbortSignal,
    Event,
    EventTarget,
  };
  const context = vm.createContext(globals);
  // What the page would see as `globalThis`/`window`/`self`.
  vm.runInContext('globalThis.window = globalThis; globalThis.self = globalThis;', context);
  return context;
}

async function load(name, context) {
  const source = await readFile(join(dir, `${name}.js`), 'utf8');
  const module = new vm.SourceTextModule(source, { context, identifier: `${name}.js` });
  await module.link((specifier) => {
    throw new Error(`the bundle imports ${specifier}`);
  });
  await module.evaluate();
  return module.namespace;
}

const result = {};
try {
  const context = browserLikeContext();
  const agent = await load('agent-client', context);
  const dmp = await load('dmp-client', context);
  context.agentApi = agent;
  context.dmpApi = dmp;
  result.absent = vm.runInContext('[typeof process, typeof require, typeof Buffer, typeof module, typeof global].join(",")', context);
  result.agentExports = Object.keys(agent).sort();
  result.dmpExports = Object.keys(dmp).sort();
  result.inContext = await vm.runInContext(
    `(async () => {
      const { AgentClient, CardAbsentError, AgentClientError, errorFromRpc } = agentApi;
      const { DmpClient, DmpError, DpopKey, buildCdaN1 } = dmpApi;
      // a WebSocket as the page has one: answers agent.info
      class PageWebSocket extends EventTarget {
        constructor(url) {
          super();
          this.url = url;
          this.readyState = 0;
          setTimeout(() => { this.readyState = 1; this.dispatchEvent(new Event('open')); }, 0);
        }
        send(text) {
          const request = JSON.parse(text);
          const event = new Event('message');
          event.data = JSON.stringify({ jsonrpc: '2.0', id: request.id, result: { version: 'ctx', protocol: 1, pcsc: 'ok', caller: 'unpaired' } });
          setTimeout(() => this.dispatchEvent(event), 0);
        }
        close() { this.readyState = 3; }
      }
      globalThis.WebSocket = PageWebSocket;
      const client = await AgentClient.connect();
      const info = await client.info();
      await client.close();
      const error = errorFromRpc({ code: -32000, message: 'absente', data: { code: 'CARD_ABSENT' } });
      const key = await DpopKey.generate();
      const proof = await key.proof({ htm: 'POST', htu: 'https://dmp.example/v1/auth/challenge' });
      const cda = buildCdaN1({
        ins: { oid: '1.2.250.1.213.1.4.10', value: '180057511234580' },
        pdf: new TextEncoder().encode('%PDF-1.7'),
        title: 'T', typeCode: '11490-0', classCode: '10',
        author: { idType: 'RPPS', nationalId: '99900000101', surname: 'MARTIN', givenName: 'SOPHIE' },
      });
      const dmp = new DmpClient({ baseUrl: 'https://dmp.example', agent: client });
      return {
        url: client.url,
        info,
        classes: typeof AgentClient === 'function' && typeof DmpClient === 'function',
        errorClass: error instanceof CardAbsentError && error instanceof AgentClientError && error.code,
        dmpError: new DmpError({ status: 404, code: 'NOT_FOUND', title: 't', detail: 'd' }).status,
        keyExtractable: key.extractable,
        proofParts: proof.split('.').length,
        proofHeader: JSON.parse(atob(proof.split('.')[0].replace(/-/g, '+').replace(/_/g, '/'))),
        cdaStart: cda.slice(0, 38),
        loggedIn: dmp.loggedIn,
      };
    })()`,
    context,
  );
} catch (error) {
  result.error = String(error?.stack ?? error);
}
console.log(JSON.stringify(result));
