import type { Clock } from '../contracts/clock.ts';
import type { TenantRegistry } from '../contracts/tenant-registry.ts';
import { resolveSecret } from '../config/load.ts';
import type { ConnectorConfig } from '../config/schema.ts';
import { TenantOperations, type OperationsDeps } from '../admin/operations.ts';
import { startAdminServer } from '../admin/server.ts';
import type { Supervisor } from '../lifecycle/supervisor.ts';
import type { Logger } from '../telemetry/logger.ts';

export interface AdminApiDeps {
  config: ConnectorConfig;
  env: NodeJS.ProcessEnv;
  registry: TenantRegistry;
  supervisor: Supervisor;
  hasCursor: OperationsDeps['hasCursor'];
  clock: Clock;
  logger: Logger;
}

export type AdminApi = Awaited<ReturnType<typeof startAdminServer>>;

/**
 * The admin API on its own port, behind its bearer token (docs/lifecycle.md). Start it after the
 * supervisor: every operation waits for the supervisor to settle. Reads the token and the consent
 * state secret from their secret sources; without a configured redirect URI, consent comes back to
 * this server's own callback, known only once it listens.
 */
export async function startAdminApi({ config, env, registry, supervisor, hasCursor, clock, logger }: AdminApiDeps): Promise<AdminApi> {
  const a = config.admin;
  if (a.token === undefined || a.stateSecret === undefined) throw new Error('config validation guarantees the admin token and state secret');
  const token = await resolveSecret(a.token, env);
  const stateSecret = await resolveSecret(a.stateSecret, env);
  let redirectUri = a.redirectUri;
  const operations = new TenantOperations({
    registry,
    supervisor,
    hasCursor,
    clock,
    consent: {
      clientId: config.auth.clientId,
      get redirectUri() {
        return redirectUri ?? '';
      },
      stateSecret,
      stateTtlMs: a.consentStateTtlSeconds * 1000,
      loginBaseUrl: config.endpoints.loginBaseUrl,
    },
  });
  const started = await startAdminServer({ host: a.host, port: a.port, token, operations, logger });
  redirectUri ??= `${started.url}/consent/callback`;
  return started;
}
