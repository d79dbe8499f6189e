// Browser origins as the agent uses them: always the `Origin` header of the WebSocket upgrade
// (never a value from a message), compared as the exact ASCII serialisation (RFC 6454).

/**
 * True when `origin` is the canonical serialisation of an origin that may pair
 * (agent-protocol.md "Pairing"): `https://host[:port]`, or `http://localhost[:port]` /
 * `http://127.0.0.1[:port]` for local development. Anything with a path, a trailing slash,
 * credentials, upper case, a default port spelt out or non-ASCII characters is refused.
 */
export function isPairableOrigin(origin: string): boolean {
  if (origin.length > 253 + 20 || !/^[\x21-\x7e]+$/.test(origin)) return false;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  if (url.origin !== origin) return false;
  if (url.protocol === 'https:') return url.hostname.length > 0;
  if (url.protocol === 'http:') return url.hostname === 'localhost' || url.hostname === '127.0.0.1';
  return false;
}
