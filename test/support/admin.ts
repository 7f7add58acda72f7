import { TenantOperations } from '../../src/admin/operations.ts';
import { startAdminServer } from '../../src/admin/server.ts';
import { MemoryTenantRegistry } from '../../src/lifecycle/memory-registry.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';
import { ManualClock } from '../../src/util/manual-clock.ts';
import { testSupervisor } from './supervisor.ts';

export const ADMIN_TOKEN = 'admin-token-for-tests';
export const STATE_SECRET = 'state-secret-for-tests';

/**
 * The admin API over an in-memory registry and a real supervisor whose pollers only wait to be
 * stopped: every operation and status transition is real, nothing talks to Microsoft or Kafka.
 */
export async function startAdminWorld(options: { clock?: ManualClock; loginBaseUrl?: string; redirectUri?: string } = {}) {
  const clock = options.clock ?? new ManualClock(Date.parse('2026-12-01T00:00:00Z'));
  const registry = new MemoryTenantRegistry();
  const { supervisor, cursors, events } = testSupervisor({ registry, clock });
  supervisor.start();
  const operations = new TenantOperations({
    registry,
    supervisor,
    hasCursor: (id) => cursors.has(id),
    clock,
    consent: { clientId: 'client-app', redirectUri: options.redirectUri ?? 'https://connector.example/consent/callback', stateSecret: STATE_SECRET, stateTtlMs: 3600_000, loginBaseUrl: options.loginBaseUrl },
  });
  const server = await startAdminServer({ host: '127.0.0.1', port: 0, token: ADMIN_TOKEN, operations, logger: silentLogger });
  const call = async (method: string, path: string, body?: unknown, token: string | null = ADMIN_TOKEN) => {
    const response = await fetch(`${server.url}${path}`, {
      method,
      headers: { ...(token === null ? {} : { authorization: `Bearer ${token}` }), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> & { error?: { code: string; problems?: Array<{ path: string }> } } };
  };
  return {
    clock,
    registry,
    cursors,
    events,
    supervisor,
    operations,
    url: server.url,
    call,
    close: async () => {
      await supervisor.stop();
      await server.close();
    },
  };
}
