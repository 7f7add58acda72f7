import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { TenantStatus } from '../source/poller/tenant-status.ts';

/**
 * One input of readiness. Checks are synchronous reads of state kept up to date elsewhere (a probe
 * request must not wait on Kafka): `ok` false makes /readyz answer 503 and say which check failed.
 */
export interface ReadinessCheck {
  name: string;
  check: () => { ok: boolean; detail?: string };
}

export interface StatusServerOptions {
  host: string;
  port: number;
  registry: Registry;
  statuses: () => Record<string, TenantStatus>;
  /** Scale-out: this replica's shards, shown beside the tenants it runs (absent when not sharded). */
  shards?: () => unknown;
  /** True once start-up finished (topics, fencing, cursors, recent ids): the startup probe. */
  started: () => boolean;
  /** Every input of readiness; all must pass. Other parts add theirs (e.g. the spool). */
  readiness: readonly ReadinessCheck[];
}

/** Each check on a line, `[+]name ok` or `[-]name failed: detail`, like the Kubernetes API server's `?verbose`. */
export function evaluateReadiness(checks: readonly ReadinessCheck[]): { ready: boolean; text: string } {
  let ready = true;
  const lines = checks.map(({ name, check }) => {
    let result: { ok: boolean; detail?: string };
    try {
      result = check();
    } catch (error) {
      result = { ok: false, detail: error instanceof Error ? error.message : String(error) };
    }
    if (!result.ok) ready = false;
    return result.ok ? `[+]${name} ok` : `[-]${name} failed${result.detail ? `: ${result.detail}` : ''}`;
  });
  return { ready, text: `${lines.join('\n')}\n${ready ? 'ready' : 'not ready'}\n` };
}

/**
 * `/metrics` for Prometheus, `/status` (per-tenant status with the action to take) and the probes
 * (docs/health.md): `/livez` answers whenever the event loop does — nothing outside the process can
 * make it fail, so a Kafka or Microsoft outage never restarts pods; `/startupz` once start-up finished;
 * `/readyz` while every readiness check passes. `/healthz` is the old name of `/livez`.
 */
export async function startStatusServer(options: StatusServerOptions): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    const send = (status: number, type: string, body: string): void => {
      response.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      response.end(body);
    };
    if (path === '/metrics') {
      options.registry.metrics().then(
        (text) => send(200, options.registry.contentType, text),
        (error: unknown) => send(500, 'text/plain', String(error)),
      );
    } else if (path === '/status') {
      const shards = options.shards?.();
      send(200, 'application/json', JSON.stringify({ tenants: options.statuses(), ...(shards === undefined ? {} : { shards }) }, null, 2));
    } else if (path === '/livez' || path === '/healthz') {
      send(200, 'text/plain', 'ok\n');
    } else if (path === '/startupz') {
      const started = options.started();
      send(started ? 200 : 503, 'text/plain', started ? 'started\n' : 'starting\n');
    } else if (path === '/readyz') {
      const { ready, text } = evaluateReadiness(options.readiness);
      send(ready ? 200 : 503, 'text/plain', text);
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
