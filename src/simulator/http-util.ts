import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock } from '../contracts/clock.ts';

/**
 * Response helpers shared by the token endpoint and the activity API. Headers imitate the ones
 * quoted from the real service (o365-api.md §1.3, §1.6): ASP.NET on IIS, no caching, and a `Date`
 * from the simulator clock, since some clients use it to detect clock skew (filebeat-o365.md §1.9).
 */
export function serviceHeaders(clock: Clock): Record<string, string> {
  return {
    'Cache-Control': 'no-cache',
    Pragma: 'no-cache',
    Expires: '-1',
    Server: 'Microsoft-IIS/10.0',
    'X-AspNet-Version': '4.0.30319',
    'X-Powered-By': 'ASP.NET',
    Date: new Date(clock.now()).toUTCString(),
  };
}

export function sendJson(res: ServerResponse, clock: Clock, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.sendDate = false;
  res.writeHead(status, {
    ...serviceHeaders(clock),
    ...(body === undefined ? {} : { 'Content-Type': 'application/json; charset=utf-8' }),
    'Content-Length': String(Buffer.byteLength(text)),
    ...headers,
  });
  res.end(text);
}

/** The Management Activity API's error envelope (o365-api.md §2.1). */
export function afError(code: string, message: string): { error: { code: string; message: string } } {
  return { error: { code, message } };
}

/** Reads a small request body (forms, webhook JSON); bounded so a misbehaving client cannot exhaust memory. */
export async function readBody(req: IncomingMessage, limit = 256 * 1024): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > limit) throw new RangeError('Request body too large.');
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Query parameters with case-insensitive names (NextPageUri may lower-case them, o365-api.md §1.7). */
export class Query {
  readonly #values = new Map<string, string>();

  constructor(search: URLSearchParams) {
    for (const [name, value] of search) {
      const key = name.toLowerCase();
      if (!this.#values.has(key)) this.#values.set(key, value);
    }
  }

  get(name: string): string | undefined {
    return this.#values.get(name.toLowerCase());
  }
}
