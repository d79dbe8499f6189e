// DNS-rebinding defence (agent-protocol.md "Transport"): every HTTP request and WebSocket upgrade
// must name the agent itself in `Host`, exactly `127.0.0.1:<port>`, `localhost:<port>` or
// `[::1]:<port>`. A page of evil.example rebound to 127.0.0.1 sends `Host: evil.example:<port>`.

export function allowedHosts(port: number): readonly string[] {
  return [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`];
}

export function isAllowedHost(host: string | undefined, port: number): boolean {
  return host !== undefined && allowedHosts(port).includes(host);
}

/** The agent's own origin as a browser sees it through `host` (already checked by isAllowedHost). */
export function ownOrigin(host: string): string {
  return `http://${host}`;
}
