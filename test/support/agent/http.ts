// Raw HTTP requests to the agent with any Host / Origin / Sec-Fetch-Site header, and the console
// page's forms read back from its HTML.
import { request } from 'node:http';

export interface HttpResult {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

export function httpRequest(port: number, options: { method?: string; path: string; headers?: Record<string, string>; body?: string }): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { Host: `127.0.0.1:${port}`, ...options.headers };
    if (options.body !== undefined) headers['Content-Length'] = String(Buffer.byteLength(options.body));
    const req = request({ host: '127.0.0.1', port, method: options.method ?? 'GET', path: options.path, headers, setHost: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/** The CSRF token of the first form on a console page. */
export function csrfFrom(html: string): string {
  const match = /name="csrf" value="([^"]+)"/.exec(html);
  if (!match?.[1]) throw new Error('no CSRF token on the page');
  return match[1];
}

export interface ConsoleForm {
  readonly action: string;
  readonly csrf: string;
  readonly code?: string;
  readonly origin?: string;
}

export function consolePost(port: number, key: string, form: Record<string, string>, headers: Record<string, string> = {}): Promise<HttpResult> {
  return httpRequest(port, {
    method: 'POST',
    path: `/console?k=${encodeURIComponent(key)}`,
    headers: {
      Origin: `http://127.0.0.1:${port}`,
      'Sec-Fetch-Site': 'same-origin',
      'Content-Type': 'application/x-www-form-urlencoded',
      ...headers,
    },
    body: new URLSearchParams(form).toString(),
  });
}
