import type { IncomingMessage } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { apiResources, type SimContext } from '../context.ts';
import { ACTIVITY_FEED_READ, type AccessTokenClaims } from '../entra/access-token.ts';
import type { EndpointName } from '../stats.ts';
import type { Tenant } from '../tenants.ts';
import { GLOBAL_PUBLISHER } from '../throttle.ts';
import { AF, tenantDoesNotExist, throttled, type ApiError } from './errors.ts';

export type Refusal = ApiError | { status: number; body: unknown };

export const METHOD_NAMES: Partial<Record<EndpointName, string>> = {
  'subscriptions-start': 'StartSubscription',
  'subscriptions-stop': 'StopSubscription',
  'subscriptions-list': 'ListSubscriptions',
  'subscriptions-content': 'ListContent',
  'subscriptions-notifications': 'ListNotifications',
  blob: 'GetBlob',
};

/**
 * The checks every activity-API request passes, in this order: bearer token (signature, lifetime on
 * the simulator clock, audience), known tenant (§2.3), token tenant = URL tenant (AF20010, §1.2),
 * ActivityFeed.Read role (AF10001, §1.2), quota (AF429, §2.4), injected faults, audit logging on (§2.3).
 * Returns the refusal to send, or undefined to go on.
 */
export async function guard(ctx: SimContext, req: IncomingMessage, endpoint: EndpointName, tenantSegment: string, publisher: string | undefined, contentType: string | undefined): Promise<{ refusal: Refusal } | { tenant: Tenant; claims: AccessTokenClaims }> {
  const now = ctx.clock.now();
  const auth = req.headers.authorization;
  const token = auth?.startsWith('Bearer ') ? auth.slice(7).trim() : undefined;
  if (token === undefined) return { refusal: AF.unauthorized('no bearer token') };
  let claims: AccessTokenClaims;
  try {
    claims = await ctx.signer.verify(token, now, apiResources(ctx));
  } catch (error) {
    return { refusal: AF.unauthorized(error instanceof Error ? error.message : 'invalid token') };
  }
  const method = METHOD_NAMES[endpoint] ?? 'Unknown';
  const tenant = ctx.tenants.get(tenantSegment.toLowerCase());
  if (!tenant) {
    return { refusal: tenantDoesNotExist({ operation: method, tenantId: tenantSegment, contentType: contentType ?? 'Audit.SharePoint', appId: claims.appid, publisherId: publisher }) };
  }
  if (claims.tid !== tenant.id) return { refusal: AF.tenantMismatch(tenantSegment, claims.tid) };
  if (!claims.roles?.includes(ACTIVITY_FEED_READ)) return { refusal: AF.permissionMissing() };

  const style = ctx.settings.throttleStyle;
  const poolKey = publisher === undefined ? `global` : `${tenant.id}|${publisher.toLowerCase()}`;
  const quota = publisher === undefined ? ctx.settings.globalQuotaPerMinute : tenant.quotaPerMinute;
  const decision = ctx.throttle.admit(poolKey, quota, now);
  if (!decision.allowed) return { refusal: throttled(method, publisher ?? GLOBAL_PUBLISHER, style, decision.retryAfterSeconds) };
  const throttleFault = ctx.faults.get(tenant.id).throttle;
  if (ctx.faults.take(tenant.id, 'throttle')) return { refusal: throttled(method, publisher ?? GLOBAL_PUBLISHER, style, throttleFault?.retryAfterSeconds ?? 60) };

  const delay =
    ctx.faults.delayFor(tenant.id, endpoint) + (tenant.scenario === 'faulty' && tenant.faultRng.chance(0.05) ? tenant.faultRng.int(200, 800) : 0) + (ctx.latency?.firstByteMs(endpoint) ?? 0);
  if (delay > 0) await sleep(delay);
  if (ctx.faults.take(tenant.id, 'serverErrors', endpoint)) return { refusal: AF.internal() };
  if (tenant.scenario === 'faulty' && tenant.faultRng.chance(0.05)) return { refusal: AF.internal() };

  if (!tenant.auditEnabled || ctx.faults.get(tenant.id).auditDisabled === true) {
    return { refusal: tenantDoesNotExist({ operation: method, tenantId: tenant.id, contentType: contentType ?? 'Audit.SharePoint', appId: claims.appid, publisherId: publisher }) };
  }
  return { tenant, claims };
}

export function isApiError(refusal: Refusal): refusal is ApiError {
  return 'code' in refusal;
}
