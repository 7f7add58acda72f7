import type { ServerResponse } from 'node:http';
import { findTenant, type SimContext } from '../context.ts';
import { sendJson } from '../http-util.ts';
import { ENTRA } from './entra-errors.ts';

/**
 * GET /{tenant}/v2.0/adminconsent?client_id=…&scope=…&redirect_uri=…&state=… — what the global
 * admin's browser opens. Entra shows a consent page; the simulator decides as the tenant's scenario
 * says and redirects (302) as Entra does: `admin_consent=True&tenant=<id>&scope=…&state=…` when
 * granted, `error=access_denied&error_subcode=cancel&error_description=AADSTS65004…&state=…` when
 * refused. A grant puts the application into a `no-consent` tenant, so its tokens work afterwards.
 */
export function handleAdminConsent(ctx: SimContext, res: ServerResponse, segment: string, query: URLSearchParams): number {
  const now = ctx.clock.now();
  const tenant = findTenant(ctx, segment);
  const clientId = query.get('client_id');
  const redirect = query.get('redirect_uri');
  const fail = (error: { status: number; body: unknown }): number => {
    sendJson(res, ctx.clock, error.status, error.body);
    return error.status;
  };
  if (!tenant) return fail(ENTRA.tenantNotFound(segment, now));
  if (clientId === null) return fail(ENTRA.missingParameter('client_id', now));
  if (clientId !== ctx.clientId) return fail(ENTRA.appNotInTenant(clientId, segment, now));
  if (redirect === null) return fail(ENTRA.missingParameter('redirect_uri', now));
  let target: URL;
  try {
    target = new URL(redirect);
  } catch {
    return fail(ENTRA.missingParameter('redirect_uri', now));
  }
  const state = query.get('state');
  if (tenant.scenario === 'consent-denied') {
    target.searchParams.set('error', 'access_denied');
    target.searchParams.set('error_subcode', 'cancel');
    target.searchParams.set('error_description', 'AADSTS65004: User declined to consent to access the app.');
  } else {
    if (tenant.scenario === 'no-consent') tenant.scenario = 'healthy';
    target.searchParams.set('admin_consent', 'True');
    target.searchParams.set('tenant', tenant.id);
    target.searchParams.set('scope', query.get('scope') ?? '');
  }
  if (state !== null) target.searchParams.set('state', state);
  res.writeHead(302, { location: target.toString(), 'cache-control': 'no-store' });
  res.end();
  return 302;
}
