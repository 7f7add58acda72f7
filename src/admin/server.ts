import { createHash, timingSafeEqual } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { z } from 'zod';
import type { TenantRecord } from '../contracts/tenant-registry.ts';
import type { Logger } from '../telemetry/logger.ts';
import { openApiDocument } from './openapi.ts';
import { AdminError, type TenantOperations } from './operations.ts';
import { addTenantBody, legacyImportBody, maintenanceBody } from './schemas.ts';

export interface AdminServerOptions {
  host: string;
  port: number;
  token: string;
  operations: TenantOperations;
  logger: Logger;
}

const MAX_BODY_BYTES = 1024 * 1024;

/** Constant time whatever the lengths: both sides are hashed to 32 bytes first. */
export function tokenMatches(expected: string, header: string | undefined): boolean {
  const given = /^Bearer (.+)$/.exec(header ?? '')?.[1] ?? '';
  const a = createHash('sha256').update(expected).digest();
  const b = createHash('sha256').update(given).digest();
  return timingSafeEqual(a, b) && given.length > 0;
}

async function readJson(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new AdminError(400, 'BODY_TOO_LARGE', `The body exceeds ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') throw new AdminError(400, 'INVALID_BODY', 'A JSON body is required', [{ path: '', message: 'empty body' }]);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new AdminError(400, 'INVALID_JSON', `The body is not JSON: ${(error as Error).message}`, [{ path: '', message: 'not JSON' }]);
  }
}

async function parseBody<S extends z.ZodType>(request: IncomingMessage, schema: S): Promise<z.infer<S>> {
  const result = schema.safeParse(await readJson(request));
  if (!result.success) {
    const problems = result.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message }));
    throw new AdminError(400, 'INVALID_BODY', `The body has ${problems.length} problem(s)`, problems);
  }
  return result.data;
}

/** The tenant as the API shows it: the parked cursor is internal. */
function view(record: TenantRecord): Omit<TenantRecord, 'parkedCursor' | 'revision'> {
  const { parkedCursor: _cursor, revision: _revision, ...rest } = record;
  return rest;
}

function summary(record: TenantRecord): Omit<TenantRecord, 'parkedCursor' | 'revision' | 'history' | 'legacy'> {
  const { history: _history, legacy: _legacy, ...rest } = view(record);
  return rest;
}

type Handler = (request: IncomingMessage, url: URL, params: string[]) => Promise<[number, unknown]>;

/**
 * The admin API: JSON over HTTP on its own port (never the metrics one), every route but the
 * OpenAPI document and the consent callback behind the bearer token.
 */
export async function startAdminServer(options: AdminServerOptions): Promise<{ url: string; close(): Promise<void> }> {
  const ops = options.operations;
  const log = options.logger.child({ component: 'admin-api' });
  let baseUrl = '';
  const routes: Array<{ method: string; path: RegExp; open?: boolean; handler: Handler }> = [
    { method: 'GET', path: /^\/openapi\.json$/, open: true, handler: () => Promise.resolve([200, openApiDocument(baseUrl)]) },
    { method: 'GET', path: /^\/consent\/callback$/, open: true, handler: async (_r, url) => [200, await ops.consentCallback(url.searchParams)] },
    { method: 'GET', path: /^\/tenants$/, handler: () => Promise.resolve([200, { tenants: ops.list().map(summary) }]) },
    { method: 'POST', path: /^\/tenants$/, handler: async (r) => [201, view(await ops.add(await parseBody(r, addTenantBody)))] },
    {
      method: 'POST',
      path: /^\/tenants\/import$/,
      handler: async (r) => {
        const result = await ops.importLegacy(await parseBody(r, legacyImportBody));
        return [result.imported ? 201 : 200, { imported: result.imported, tenant: view(result.tenant) }];
      },
    },
    {
      method: 'GET',
      path: /^\/tenants\/([^/]+)$/,
      handler: async (_r, _u, [id = '']) => {
        await ops.settled(id);
        return [200, view(ops.show(id))];
      },
    },
    { method: 'POST', path: /^\/tenants\/([^/]+)\/pause$/, handler: async (_r, _u, [id = '']) => [200, view(await ops.pause(id))] },
    { method: 'POST', path: /^\/tenants\/([^/]+)\/resume$/, handler: async (_r, _u, [id = '']) => [200, view(await ops.resume(id))] },
    { method: 'POST', path: /^\/tenants\/([^/]+)\/deauthorize$/, handler: async (_r, _u, [id = '']) => [200, view(await ops.deauthorize(id))] },
    { method: 'POST', path: /^\/tenants\/([^/]+)\/maintenance$/, handler: async (r, _u, [id = '']) => [200, view(await ops.scheduleMaintenance(id, await parseBody(r, maintenanceBody)))] },
    { method: 'GET', path: /^\/tenants\/([^/]+)\/consent-url$/, handler: (_r, _u, [id = '']) => Promise.resolve([200, ops.consentUrl(id)]) },
  ];

  const send = (response: ServerResponse, status: number, body: unknown): void => {
    response.writeHead(status, { 'content-type': 'application/json' });
    response.end(JSON.stringify(body));
  };
  const fail = (response: ServerResponse, error: AdminError): void =>
    send(response, error.status, { error: { code: error.code, message: error.message, ...(error.problems === undefined ? {} : { problems: error.problems }) } });

  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://admin.invalid');
    const method = request.method ?? 'GET';
    const matching = routes.filter((route) => route.path.test(url.pathname));
    const route = matching.find((r) => r.method === method);
    if (route === undefined) {
      if (matching.length > 0) {
        response.setHeader('allow', matching.map((r) => r.method).join(', '));
        send(response, 405, { error: { code: 'METHOD_NOT_ALLOWED', message: `${method} is not allowed here` } });
      } else send(response, 404, { error: { code: 'NOT_FOUND', message: `No route ${url.pathname}` } });
      return;
    }
    if (route.open !== true && !tokenMatches(options.token, request.headers.authorization)) {
      response.setHeader('www-authenticate', 'Bearer');
      fail(response, new AdminError(401, 'UNAUTHORIZED', 'A valid bearer token is required'));
      return;
    }
    let params: string[];
    try {
      params = (route.path.exec(url.pathname) ?? []).slice(1).map((p) => decodeURIComponent(p));
    } catch {
      fail(response, new AdminError(400, 'INVALID_PATH', 'The path is not valid percent-encoding'));
      return;
    }
    // Through then(): a handler that throws synchronously still answers.
    Promise.resolve()
      .then(() => route.handler(request, url, params))
      .then(
      ([status, body]) => send(response, status, body),
      (error: unknown) => {
        if (error instanceof AdminError) fail(response, error);
        else {
          log.error({ err: error, path: url.pathname }, 'Admin request failed');
          send(response, 500, { error: { code: 'INTERNAL', message: 'The operation failed; see the connector log' } });
        }
      },
    );
  });
  server.listen(options.port, options.host);
  await once(server, 'listening');
  const address = server.address() as AddressInfo;
  const host = address.address.includes(':') ? `[${address.address}]` : address.address;
  baseUrl = `http://${host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${address.port}`;
  log.info({ url: baseUrl }, 'Admin API listening');
  return {
    url: baseUrl,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
