import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { TenantStatus } from '../source/poller/tenant-status.ts';

export interface StatusServerOptions {
  host: string;
  port: number;
  registry: Registry;
  statuses: () => Record<string, TenantStatus>;
  ready: () => boolean;
}

/** `/metrics` for Prometheus, `/status` (per-tenant status with the action to take), `/healthz`, `/readyz`. */
export async function startStatusServer(options: StatusServerOptions): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    const send = (status: number, type: string, body: string): void => {
      response.writeHead(status, { 'content-type': type });
      response.end(body);
    };
    if (path === '/metrics') {
      options.registry.metrics().then(
        (text) => send(200, options.registry.contentType, text),
        (error: unknown) => send(500, 'text/plain', String(error)),
      );
    } else if (path === '/status') {
      send(200, 'application/json', JSON.stringify({ tenants: options.statuses() }, null, 2));
    } else if (path === '/healthz') {
      send(200, 'text/plain', 'ok\n');
    } else if (path === '/readyz') {
      send(options.ready() ? 200 : 503, 'text/plain', options.ready() ? 'ready\n' : 'starting\n');
    } else {
      send(404, 'text/plain', 'not found\n');
    }
  });
  server.listen(options.port, options.host);
  await once(server, 'listening');
  const address = server.address() as AddressInfo;
  const host = address.address.includes(':') ? `[${address.address}]` : address.address;
  return {
    url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
