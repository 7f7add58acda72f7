import type { Clock } from '../contracts/clock.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { TokenSigner } from './entra/access-token.ts';
import type { AssertionVerifier } from './entra/client-assertion.ts';
import type { FaultController } from './faults.ts';
import type { LatencyModel } from './latency.ts';
import type { ThrottleStyle } from './options.ts';
import type { RequestStats } from './stats.ts';
import type { Tenant } from './tenants.ts';
import type { Throttle } from './throttle.ts';

/** Everything a request handler needs; built once by startSimulator. */
export interface SimContext {
  clock: Clock;
  logger: Logger;
  seed: string;
  /** https://host:port — both the login authority host and the API host. */
  baseUrl: string;
  clientId: string;
  clientSecret: string;
  appName: string;
  tenants: Map<string, Tenant>;
  signer: TokenSigner;
  assertions: AssertionVerifier;
  faults: FaultController;
  stats: RequestStats;
  throttle: Throttle;
  /** Set when the simulator answers with modelled delays (options.latency). */
  latency?: LatencyModel | undefined;
  /** Blob bodies kept in memory, by tenant and contentId (options.blobBodiesInMemory). */
  blobBodies?: Map<string, Buffer> | undefined;
  settings: {
    pageSize: number;
    lowercaseNextPageProbability: number;
    globalQuotaPerMinute: number;
    throttleStyle: ThrottleStyle;
    startCooldownMs: number;
    tokenLifetimeSeconds: number;
    retentionSlackMs: number;
  };
}

/** A tenant by GUID, by `<name>.onmicrosoft.com` or by short name, as the token endpoint accepts all three. */
export function findTenant(ctx: SimContext, segment: string): Tenant | undefined {
  const key = segment.toLowerCase();
  const byId = ctx.tenants.get(key);
  if (byId) return byId;
  for (const t of ctx.tenants.values()) if (t.domain === key || t.name === key) return t;
  return undefined;
}

/** Resources (token audiences) the simulated API accepts: its own origin and the real one. */
export function apiResources(ctx: SimContext): string[] {
  const url = new URL(ctx.baseUrl);
  const resources = new Set([ctx.baseUrl, `https://localhost:${url.port}`, `https://127.0.0.1:${url.port}`, 'https://manage.office.com']);
  return [...resources];
}
