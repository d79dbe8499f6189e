// Response headers of the web pages and their assets. Scripts and styles come only from the
// service's own origin (external files, no inline script or style), the practitioner page may
// open a WebSocket to the agent on the loopback interface (any port: the agent's is configurable),
// nothing may frame the pages. The security-header hook of src/dmp/http keeps a CSP a route has
// set and adds nosniff, X-Frame-Options: DENY, Referrer-Policy and no-store.
export const PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self' ws://127.0.0.1:* ws://localhost:*",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

/**
 * The API's `same-origin` opener policy would cut the practitioner page off from the PIN popup
 * as soon as the popup goes to the agent's origin: the client library could neither see it
 * close nor close it when the call settles. Popups keep their opener; nothing else may.
 */
export const PAGE_OPENER_POLICY = 'same-origin-allow-popups';
