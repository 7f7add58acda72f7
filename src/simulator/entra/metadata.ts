import type { ServerResponse } from 'node:http';
import { findTenant, type SimContext } from '../context.ts';
import { sendJson } from '../http-util.ts';
import { ENTRA } from './entra-errors.ts';

/**
 * OpenID metadata msal-node reads before it posts to the token endpoint: with an https authority
 * listed in `knownAuthorities` it fetches `{authority}/v2.0/.well-known/openid-configuration` and
 * requires authorization_endpoint, token_endpoint, issuer and jwks_uri, with the issuer on the
 * authority's own origin (msal-common Authority.validateIssuer).
 */
export function handleOpenIdConfiguration(ctx: SimContext, res: ServerResponse, segment: string, v2: boolean): number {
  const tenant = findTenant(ctx, segment);
  if (!tenant) {
    const err = ENTRA.tenantNotFound(segment, ctx.clock.now());
    sendJson(res, ctx.clock, err.status, err.body);
    return err.status;
  }
  const base = `${ctx.baseUrl}/${tenant.id}`;
  const suffix = v2 ? '/v2.0' : '';
  sendJson(res, ctx.clock, 200, {
    token_endpoint: `${base}/oauth2${suffix}/token`,
    token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
    jwks_uri: `${ctx.baseUrl}/${tenant.id}/discovery${suffix}/keys`,
    response_modes_supported: ['query', 'fragment', 'form_post'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
    response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
    scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
    issuer: v2 ? `${base}/v2.0` : `${ctx.baseUrl}/${tenant.id}/`,
    request_uri_parameter_supported: false,
    authorization_endpoint: `${base}/oauth2${suffix}/authorize`,
    device_authorization_endpoint: `${base}/oauth2${suffix}/devicecode`,
    end_session_endpoint: `${base}/oauth2${suffix}/logout`,
    tenant_region_scope: 'EU',
    cloud_instance_name: 'simulator',
  });
  return 200;
}

/** GET /common/discovery/instance: instance discovery, answered with the simulator as the only alias. */
export function handleInstanceDiscovery(ctx: SimContext, res: ServerResponse, authority: string | null): number {
  const host = new URL(ctx.baseUrl).host;
  sendJson(res, ctx.clock, 200, {
    tenant_discovery_endpoint: `${authority ?? `${ctx.baseUrl}/common`}/v2.0/.well-known/openid-configuration`,
    'api-version': '1.1',
    metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
  });
  return 200;
}

export async function handleJwks(ctx: SimContext, res: ServerResponse): Promise<number> {
  sendJson(res, ctx.clock, 200, await ctx.signer.jwks());
  return 200;
}
