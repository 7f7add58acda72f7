import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TokenFault } from '../faults.ts';
import { findTenant, apiResources, type SimContext } from '../context.ts';
import { readBody, sendJson } from '../http-util.ts';
import { ACTIVITY_FEED_READ } from './access-token.ts';
import { ENTRA, type EntraError } from './entra-errors.ts';

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const OIDC_SCOPES = new Set(['openid', 'profile', 'offline_access', 'email']);

/**
 * POST /{tenant}/oauth2/v2.0/token (client credentials, o365-api.md §3 "Token (v2 endpoint)") and the
 * documented v1 form POST /{tenant}/oauth2/token with `resource` (§3 "Token (v1 endpoint)").
 * Returns the HTTP status it answered, for stats.
 */
export async function handleToken(ctx: SimContext, req: IncomingMessage, res: ServerResponse, tenantSegment: string, v1: boolean): Promise<number> {
  const form = new URLSearchParams(await readBody(req));
  const faultTenant = findTenant(ctx, tenantSegment);
  if (faultTenant !== undefined) {
    // Wall-clock time, so a frozen test clock does not hang it.
    const delay = ctx.faults.delayFor(faultTenant.id, 'token');
    if (delay > 0) await sleep(delay);
    const fault = ctx.faults.get(faultTenant.id).tokenAnswer;
    if (fault !== undefined) return sendTokenFault(res, fault);
  }
  const outcome = await issue(ctx, form, tenantSegment, v1);
  if ('status' in outcome) {
    sendJson(res, ctx.clock, outcome.status, outcome.body);
    return outcome.status;
  }
  sendJson(res, ctx.clock, 200, outcome.json);
  return 200;
}

/** Answers a token request the way a broken proxy, captive portal or outage would (FaultSpec.tokenAnswer). */
function sendTokenFault(res: ServerResponse, fault: TokenFault): number {
  switch (fault) {
    case 'redirect-307':
    case 'redirect-302': {
      const status = fault === 'redirect-307' ? 307 : 302;
      res.writeHead(status, { Location: 'https://login.redirected.example.invalid/common/oauth2/v2.0/token', 'Content-Length': '0' }).end();
      return status;
    }
    case 'html-500':
      res.writeHead(500, { 'Content-Type': 'text/html; charset=utf-8' }).end('<html><body><h1>500 Internal Server Error</h1></body></html>');
      return 500;
    case 'empty-200':
      res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': '0' }).end();
      return 200;
    case 'no-access-token-200':
      res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8' }).end(JSON.stringify({ token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599 }));
      return 200;
  }
}

async function issue(ctx: SimContext, form: URLSearchParams, tenantSegment: string, v1: boolean): Promise<EntraError | { json: Record<string, unknown> }> {
  const now = ctx.clock.now();
  const tenant = findTenant(ctx, tenantSegment);
  if (!tenant) return ENTRA.tenantNotFound(tenantSegment, now);
  const grant = form.get('grant_type');
  if (grant === null) return ENTRA.missingParameter('grant_type', now);
  if (grant !== 'client_credentials') return ENTRA.badGrant(grant, now);
  const clientId = form.get('client_id');
  if (clientId === null) return ENTRA.missingParameter('client_id', now);
  if (clientId !== ctx.clientId || tenant.scenario === 'no-consent') return ENTRA.appNotInTenant(clientId, tenantSegment, now);

  const resource = resolveResource(form, v1);
  if ('error' in resource) return resource.error === 'missing' ? ENTRA.missingParameter(v1 ? 'resource' : 'scope', now) : ENTRA.scopeNotDefault(resource.scope, now);
  const accepted = apiResources(ctx);
  if (!accepted.includes(resource.value)) return ENTRA.resourceNotFound(resource.value, tenantSegment, now);

  const secret = form.get('client_secret');
  const assertion = form.get('client_assertion');
  let certificate = false;
  if (assertion !== null) {
    if (form.get('client_assertion_type') !== ASSERTION_TYPE) return ENTRA.missingParameter('client_assertion_type', now);
    const audiences = tokenEndpoints(ctx, tenantSegment, tenant.id);
    const check = await ctx.assertions.check(assertion, clientId, audiences);
    if (!check.ok) {
      switch (check.failure) {
        case 'time':
          return ENTRA.assertionTime(now);
        case 'subject':
          return ENTRA.assertionSubject(now);
        case 'audience':
          return ENTRA.assertionAudience(check.audience ?? '', now);
        case 'key-not-found':
          return ENTRA.assertionInvalid('The key was not found.', now);
        default:
          return ENTRA.assertionInvalid('The provided signature value did not match the expected signature value.', now);
      }
    }
    certificate = true;
  } else if (secret !== null) {
    if (secret !== ctx.clientSecret) return ENTRA.badSecret(clientId, now);
  } else {
    return ENTRA.noCredential(now);
  }

  const lifetime = ctx.faults.get(tenant.id).tokenLifetimeSeconds ?? ctx.settings.tokenLifetimeSeconds;
  const roles = tenant.scenario === 'permission-missing' ? [] : [ACTIVITY_FEED_READ, 'ServiceHealth.Read'];
  const accessToken = await ctx.signer.issue({ tenantId: tenant.id, clientId, resource: resource.value, roles, certificate, nowMs: now, lifetimeSeconds: lifetime, appName: ctx.appName });
  if (v1) {
    // The v1 sample response carries numbers as strings (o365-api.md §3, GS sample).
    const expiresOn = Math.floor(now / 1000) + lifetime;
    return { json: { token_type: 'Bearer', expires_in: String(lifetime), ext_expires_in: String(lifetime), expires_on: String(expiresOn), not_before: String(Math.floor(now / 1000)), resource: resource.value, access_token: accessToken } };
  }
  return { json: { token_type: 'Bearer', expires_in: lifetime, ext_expires_in: lifetime, access_token: accessToken } };
}

function resolveResource(form: URLSearchParams, v1: boolean): { value: string } | { error: 'missing' } | { error: 'not-default'; scope: string } {
  if (v1) {
    const resource = form.get('resource');
    return resource === null ? { error: 'missing' } : { value: resource.replace(/\/$/, '') };
  }
  const scopes = (form.get('scope') ?? '').split(/\s+/).filter((s) => s !== '' && !OIDC_SCOPES.has(s));
  const scope = scopes[0];
  if (scope === undefined) return { error: 'missing' };
  if (!scope.endsWith('/.default')) return { error: 'not-default', scope };
  return { value: scope.slice(0, -'/.default'.length).replace(/\/$/, '') };
}

/** Audiences a client assertion may name: the v2 and v1 token endpoints and the issuer, by id or by name. */
function tokenEndpoints(ctx: SimContext, segment: string, tenantId: string): string[] {
  const out: string[] = [];
  for (const t of new Set([segment, tenantId])) {
    out.push(`${ctx.baseUrl}/${t}/oauth2/v2.0/token`, `${ctx.baseUrl}/${t}/oauth2/token`, `${ctx.baseUrl}/${t}/v2.0`);
  }
  return out;
}
